/** Registers every scenario. */
import './pl330.js';
import './fault-storm.js';
