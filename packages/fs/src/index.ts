export { writeDurable, fsyncDir, type DurableWriteOptions } from './durable-write.js';
