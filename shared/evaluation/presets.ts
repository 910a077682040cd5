import type { HybridMfConfig } from '../model/hybrid-mf.ts';
import type { ItemTransitionsConfig } from '../model/item-transitions.ts';
import type { NeuMfConfig } from '../model/neumf/neumf.ts';

/**
 * Settings tuned on MovieLens 100K for each protocol (docs/evaluation.md has the search and the
 * results). Command-line flags override them.
 */
export interface EvalPreset {
  readonly epochs: number;
  readonly order: 'time' | 'shuffle';
  readonly features: boolean;
  readonly mf: Partial<HybridMfConfig>;
  readonly neumf: Partial<NeuMfConfig>;
  /** The session signal (models `session` and `hybrid`). */
  readonly transitions: Partial<ItemTransitionsConfig>;
  /** Hybrid: weight of the session signal against MF's. */
  readonly sessionWeight: number;
}

const adagrad = (learningRate: number, l2: number, maxNorm = 10) =>
  ({
    kind: 'adagrad',
    learningRate,
    l2,
    clipNorm: 5,
    maxNorm,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  }) as const;
const sgd = (learningRate: number, l2: number) =>
  ({ kind: 'sgd', learningRate, l2, clipNorm: 0, maxNorm: 0, epsilon: 1e-8, initialAccumulator: 0 }) as const;

export function evalPreset(
  protocol: 'loo' | 'split' | 'prequential',
  feedback: 'implicit' | 'explicit',
): EvalPreset {
  if (protocol === 'prequential') {
    return feedback === 'explicit'
      ? {
          epochs: 1,
          order: 'time',
          features: true,
          mf: { dim: 32, initStd: 0.1, optimizer: sgd(0.1, 0.03), biasOptimizer: sgd(0.05, 0), l2Bias: 0.03 },
          neumf: {},
          transitions: {},
          sessionWeight: 1,
        }
      : {
          epochs: 1,
          order: 'time',
          features: true,
          mf: {
            loss: 'logistic',
            dim: 64,
            initStd: 0.01,
            negatives: 64,
            // No L2 but a tight max-norm: on a drifting stream, shrinking every row towards 0 at
            // each step forgets too fast; capping row norms bounds scores instead.
            optimizer: adagrad(0.3, 0, 2),
            biasOptimizer: adagrad(0.2, 0),
          },
          neumf: { negatives: 4 },
          transitions: {},
          sessionWeight: 1,
        };
  }
  if (protocol === 'split') {
    return {
      epochs: 100,
      order: 'shuffle',
      features: false,
      mf: { loss: 'bpr', dim: 64, negatives: 1, optimizer: adagrad(0.1, 0.02) },
      neumf: { negatives: 4 },
      transitions: {},
      // A random split holds out no "next" items: the session signal barely helps here.
      sessionWeight: 0.1,
    };
  }
  return {
    epochs: 60,
    order: 'shuffle',
    features: false,
    mf: { loss: 'bpr', dim: 64, negatives: 4, optimizer: adagrad(0.05, 0.02) },
    neumf: { negatives: 4 },
    transitions: {},
    // Leave-one-out holds out each user's latest item: what comes next is the session signal's forte.
    sessionWeight: 2,
  };
}
