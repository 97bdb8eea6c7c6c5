export * from './test-irq.js';
export * from './test-dma.js';
