export { main, EXIT_OK, EXIT_ERROR, EXIT_USAGE } from './main.js';
export { createProgram, VERSION } from './program.js';
export { processIo, type Io } from './io.js';
