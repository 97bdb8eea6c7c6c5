/** Registers every scenario. */
import './pl330.js';
import './groups.js';
import './fault-storm.js';
import './cdev.js';
