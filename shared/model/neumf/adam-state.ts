import * as tf from '@tensorflow/tfjs';

/**
 * TF.js's Adam keeps beta1^t and beta2^t as running products (private fields accBeta1/accBeta2);
 * setWeights() recomputes them with pow(), which rounds differently. Saving and restoring the
 * products makes a resumed run bit-identical to an uninterrupted one.
 */
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

export function adamPowers(optimizer: tf.Optimizer): [number, number] | null {
  const adam = optimizer as unknown as AdamInternals;
  if (adam.accBeta1 === undefined || adam.accBeta2 === undefined) return null;
  return [adam.accBeta1.dataSync()[0] as number, adam.accBeta2.dataSync()[0] as number];
}

export function setAdamPowers(optimizer: tf.Optimizer, [beta1, beta2]: [number, number]): void {
  const adam = optimizer as unknown as AdamInternals;
  adam.accBeta1?.assign(tf.scalar(beta1));
  adam.accBeta2?.assign(tf.scalar(beta2));
}
