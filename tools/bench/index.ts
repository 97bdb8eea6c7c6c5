/** Every benchmark module registers itself here. */
import './host.js';
import '../unicorn/bench.js';
