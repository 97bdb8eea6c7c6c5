/**
 * Every benchmark module registers itself here (the runner lists them in this order).
 * Numbering follows issue 11: 1 dma-copy, 2 ioctl-rate, 3 scenario, 4 fuzz-rate,
 * 5 smmu-walk, 6 memory, 7 unicorn, 8 dt-parse (issue 18), boot (issue 19); host-copy is the reference for 1.
 */
import './host.js';
import './dma-copy.js';
import './dma-smmu.js';
import './ioctl-rate.js';
import './scenario.js';
import './boot.js';
import './fuzz.js';
import './fuzz-coverage.js';
import './smmu-walk.js';
import './memory.js';
import './unicorn.js';
import '../unicorn/bench.js';
import './dt-parse.js';
import './cli-startup.js';
