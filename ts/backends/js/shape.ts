import type { CpuKernelTable } from '../backend.js';

export const SHAPE: CpuKernelTable = {};
