import type { CpuKernelTable } from '../backend.js';

export const REDUCE: CpuKernelTable = {};
