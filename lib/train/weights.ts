// What a trained model keeps on disk: dir/model.json + dir/weights.bin in the standard tfjs layers format
// (what tf.io file handlers write and tf.loadLayersModel reads), so any tfjs tool can open it.
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../store/atomic';

import { MODEL_JSON, WEIGHTS_BIN } from '../paths';

export { MODEL_JSON, WEIGHTS_BIN };

/** model.json of the tfjs layers format (the fields tfjs's own file/http handlers write). */
interface ModelJson {
  modelTopology: object;
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Concatenate tfjs WeightData (one ArrayBuffer, or several for very large models) into one byte array. */
function weightBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((s, b) => s + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of parts) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out;
}

/** Bytes the manifest's weights take in weights.bin (float32/int32: 4 bytes per value; no quantisation here). */
function manifestBytes(specs: tf.io.WeightsManifestEntry[]): number {
  let bytes = 0;
  for (const s of specs) {
    if (s.quantization) throw new Error(`weight '${s.name}' is quantised; saveModel never writes quantised weights`);
    const per = s.dtype === 'float32' || s.dtype === 'int32' ? 4 : s.dtype === 'bool' ? 1 : NaN;
    if (Number.isNaN(per)) throw new Error(`weight '${s.name}' has unsupported dtype ${s.dtype}`);
    bytes += per * s.shape.reduce((a, b) => a * b, 1);
  }
  return bytes;
}

/**
 * Write `model` to dir/model.json + dir/weights.bin (creating dir). Each file is written to a temp name and
 * renamed, weights.bin first and model.json last, so a reader that finds model.json finds complete files;
 * loadModel also checks that weights.bin has exactly the bytes model.json describes.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const handler: tf.io.IOHandler = {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (artifacts.modelTopology === undefined || artifacts.weightSpecs === undefined) {
        throw new Error('saveModel: tfjs produced no topology or weight specs');
      }
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('saveModel: expected a JSON topology (layers model)');
      const bytes = weightBytes(artifacts.weightData);
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
      };
      writeFileAtomic(path.join(dir, WEIGHTS_BIN), bytes);
      writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
  await model.save(handler);
}

/** True when dir holds a saved model (model.json is written last, so its presence means a complete save). */
export function hasSavedModel(dir: string): boolean {
  return fs.existsSync(path.join(dir, MODEL_JSON));
}

/**
 * Read a model written by saveModel (or any tfjs layers model.json with local weight files). The JSON is turned
 * into model artifacts by tfjs's own parser (tf.io.getModelArtifactsForJSON, what its http and file loaders
 * use). Errors name the directory; a weights.bin whose size differs from the manifest's is refused.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = path.join(dir, MODEL_JSON);
  const parsed = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as tf.io.ModelJSON;
  if (!parsed.modelTopology || !Array.isArray(parsed.weightsManifest)) {
    throw new Error(`${jsonPath}: not a tfjs layers model.json (needs modelTopology and weightsManifest)`);
  }
  const loadWeights = async (manifest: tf.io.WeightsManifestConfig): Promise<[tf.io.WeightsManifestEntry[], ArrayBuffer]> => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
    }
    const all = Buffer.concat(buffers);
    const expected = manifestBytes(specs);
    if (all.byteLength !== expected) {
      throw new Error(`${dir}: weight files hold ${all.byteLength} bytes but ${MODEL_JSON} describes ${expected}`);
    }
    // A standalone ArrayBuffer (a Buffer may be a view into a larger pool).
    return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
  };
  const artifacts = await tf.io.getModelArtifactsForJSON(parsed, loadWeights);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
