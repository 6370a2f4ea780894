// Recognising a model that is a plain chain of Dense layers (the MLP): the fast training step and the fast
// pruning trajectory both need exactly this structural check; each then adds its own conditions on the layers.
import * as tf from '@tensorflow/tfjs';

/**
 * The model's Dense layers, in order, when it is a plain chain: one input and one output, every layer fed by
 * the one before (the first by the input), only `passThrough` classes (e.g. InputLayer, Dropout) besides Flatten
 * and Dense, a Flatten before the first Dense when the input is not a vector (Dense on a rank>2 input acts on the
 * last axis only), and the output produced by the last layer, a Dense. Null otherwise.
 */
export function denseChain(model: tf.LayersModel, passThrough: ReadonlySet<string>): tf.layers.Layer[] | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const layers = model.layers;
  let flattened = model.inputs[0].shape.length === 2;
  const dense: tf.layers.Layer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const cls = layer.getClassName();
    if (layer.inboundNodes.length !== 1) return null; // shared layers are not a plain chain
    const inbound = layer.inboundNodes[0].inboundLayers;
    if (i === 0) {
      // tf.sequential leaves its InputLayer out of model.layers: the first layer may hang off one.
      if (inbound.length > 1 || (inbound.length === 1 && inbound[0].getClassName() !== 'InputLayer')) return null;
    } else if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
      return null;
    }
    if (cls === 'Flatten') flattened = true;
    else if (cls === 'Dense' && flattened) dense.push(layer);
    else if (!passThrough.has(cls)) return null;
  }
  const last = layers[layers.length - 1];
  // outputs[0].sourceLayer, not outputLayers: a tf.sequential fills outputLayers only once it is built.
  if (dense.length === 0 || last !== dense[dense.length - 1] || model.outputs[0].sourceLayer !== last) return null;
  return dense;
}
