export { createLogger, type Logger } from '../services/logger.js';
