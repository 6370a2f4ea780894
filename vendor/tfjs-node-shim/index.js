// danfojs-node requires '@tensorflow/tfjs-node' for its tensor API only; hand it the project's tfjs.
module.exports = require('@tensorflow/tfjs');
