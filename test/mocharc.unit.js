// `npm run test:unit`: the fast tier (test/tiers.js says which files are slow and why).
module.exports = require('./tiers').mochaConfig('unit');
