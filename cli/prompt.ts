export { readSecret } from '../authority/src/admin/prompt.js';
