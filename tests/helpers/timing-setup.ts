/** Per test file (see vitest.config.ts): test and hook deadlines from the load when the file starts. */
import { vi } from 'vitest';
import { HOOK_MS, TEST_MS } from './timing.js';

vi.setConfig({ testTimeout: TEST_MS, hookTimeout: HOOK_MS });
