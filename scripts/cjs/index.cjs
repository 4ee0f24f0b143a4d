'use strict';
// The CommonJS entry of varinf: Node ≥ 20.19 loads the ES module with require(), so CommonJS and
// ESM callers share one module instance (one backend registry, one engine) instead of two copies.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- this file is the CommonJS entry
module.exports = require('./index.js');
