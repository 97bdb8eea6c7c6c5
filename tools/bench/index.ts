/** Every benchmark module registers itself here. */
import './host.js';
import './scenario.js';
import './fuzz.js';
import '../unicorn/bench.js';
