import type { CpuKernelTable } from '../backend.js';

export const RANDOM: CpuKernelTable = {};
