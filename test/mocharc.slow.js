// `npm run test:slow`: the end-to-end tier (test/tiers.js lists its files and why each is slow).
module.exports = require('./tiers').mochaConfig('slow');
