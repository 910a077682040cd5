import * as tf from '@tensorflow/tfjs';

/**
 * The dense part of NeuMF as a TF.js Layers model: inputs are the GMF vector (user * item, element
 * wise) and the MLP input (user MLP row, item MLP row and the context embeddings, concatenated);
 * the MLP tower is a stack of ReLU layers, and one linear unit over [GMF, last MLP layer] gives
 * the logit. Keeping it a LayersModel makes its weights exportable in TF.js's own format (model.json
 * plus binary weights), which `tensorflowjs_converter` turns into a Keras model for Python.
 *
 * Training and scoring run `forward()`, the same computation written with plain ops over the
 * model's own variables (faster than `model.apply` inside a gradient tape); a unit test checks the
 * two agree.
 */
export interface TowerShape {
  readonly gmfDim: number;
  readonly mlpInputDim: number;
  readonly hidden: readonly number[];
  readonly seed: number;
}

export interface Tower {
  readonly model: tf.LayersModel;
  /** Trainable variables in forward() order: [W1, b1, ..., Wn, bn, Wout, bout]. */
  readonly variables: tf.Variable[];
}

export function buildTower(shape: TowerShape): Tower {
  const gmf = tf.input({ shape: [shape.gmfDim], name: 'gmf' });
  const mlp = tf.input({ shape: [shape.mlpInputDim], name: 'mlp' });
  let h: tf.SymbolicTensor = mlp;
  shape.hidden.forEach((units, i) => {
    h = tf.layers
      .dense({
        units,
        activation: 'relu',
        name: `mlp_${i}`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + i }),
        biasInitializer: 'zeros',
      })
      .apply(h) as tf.SymbolicTensor;
  });
  const joined = tf.layers.concatenate({ name: 'neumf_concat' }).apply([gmf, h]) as tf.SymbolicTensor;
  const logit = tf.layers
    .dense({
      units: 1,
      name: 'prediction',
      kernelInitializer: tf.initializers.glorotUniform({ seed: shape.seed + 1000 }),
      biasInitializer: 'zeros',
    })
    .apply(joined) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [gmf, mlp], outputs: logit, name: 'neumf_tower' });
  return { model, variables: towerVariables(model) };
}

/** The model's trainable tf.Variables in forward() order. */
export function towerVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Logits for a batch: `gmf` is [B, gmfDim], `mlpInput` [B, mlpInputDim]; `weights` in the order
 * of Tower.variables (the variables themselves, or tensors passed through a gradient function).
 */
export function forward(gmf: tf.Tensor2D, mlpInput: tf.Tensor2D, weights: readonly tf.Tensor[]): tf.Tensor1D {
  let h: tf.Tensor2D = mlpInput;
  const layers = (weights.length - 2) / 2;
  for (let i = 0; i < layers; i++) {
    h = tf.relu(tf.add(tf.matMul(h, weights[2 * i] as tf.Tensor2D), weights[2 * i + 1] as tf.Tensor1D));
  }
  const joined = tf.concat([gmf, h], 1);
  const out = tf.add(
    tf.matMul(joined, weights[2 * layers] as tf.Tensor2D),
    weights[2 * layers + 1] as tf.Tensor1D,
  );
  return tf.reshape(out, [-1]);
}
