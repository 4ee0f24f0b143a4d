/** The Stan front end: parse a Stan program, compile it with its data into a varinf model, write its draws as CmdStan does. */
export { fromStan, constraintFor, type StanModel, type StanVariable, type StanData } from './model.js';
export { parseStan } from './parser.js';
export { tokenize, type Token } from './lexer.js';
export type * from './ast.js';
export { StanSyntaxError, StanSemanticError, StanUnsupportedError, StanDataError, StanRuntimeError, type Loc } from './errors.js';
export { drawTable, summarize, summaryTable, cmdstanCsv, columnNames, type DrawTable } from './output.js';
