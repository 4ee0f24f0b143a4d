// Imported before the library: every size goes to the native kernels, so the suite tests them
// rather than the js routing of small inputs.
process.env.VARINF_CPU_CROSSOVER = '0';
