/** Registers every scenario. Later issues add their scenarios here. */
import './registry.js';
