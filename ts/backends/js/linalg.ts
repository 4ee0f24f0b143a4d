import type { CpuKernelTable } from '../backend.js';

export const LINALG: CpuKernelTable = {};
