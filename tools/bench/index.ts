/**
 * Every benchmark module registers itself here (the runner lists them in this order).
 * Numbering follows issue 11: 1 dma-copy, 2 ioctl-rate, 3 scenario, 4 fuzz-rate,
 * 5 smmu-walk, 6 memory, 7 unicorn; host-copy is the reference for 1.
 */
import './host.js';
import './dma-copy.js';
import './dma-smmu.js';
import './ioctl-rate.js';
// 3. scenario (pl330-vfio-test wall time in-process and CLI process time): added by the
//    integrator with tools/scenarios — import './scenario.js' here.
// 4. fuzz-rate (fuzzer syscall executions per second): added with the fuzzer — import
//    './fuzz-rate.js' here.
import './smmu-walk.js';
import './memory.js';
import './unicorn.js';
