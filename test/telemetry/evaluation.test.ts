import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { EvaluationConfig } from '../../src/config/index.js';
import { GatewayError, Tensor } from '../../src/core/index.js';
import { Evaluator, predictionFromOutputs } from '../../src/telemetry/evaluation/index.js';
import { summariseOutputs } from '../../src/telemetry/request-log/index.js';
import { metricValue, recordingLogger } from './helpers.js';

const CONFIG: EvaluationConfig = { enabled: true, store: 'memory', ttl_s: 3600, max_predictions: 1000, key_prefix: 'p:' };

function evaluator(config: Partial<EvaluationConfig> = {}) {
  const registry = new Registry();
  const ev = new Evaluator({ config: { ...CONFIG, ...config }, log: recordingLogger(), registry });
  return { ev, registry };
}

/** Outputs of a 3-class classifier whose rows predict `classes`. */
function classifierOutputs(classes: number[]): Tensor[] {
  const probs = new Float32Array(classes.length * 3).fill(0.1);
  classes.forEach((c, r) => (probs[r * 3 + c] = 0.8));
  return [new Tensor('probabilities', 'FP32', [classes.length, 3], probs), new Tensor('label', 'INT64', [classes.length], BigInt64Array.from(classes.map(BigInt)))];
}

const regressorOutputs = (values: number[]) => [new Tensor('y', 'FP32', [values.length, 1], Float32Array.from(values))];

describe('prediction from outputs', () => {
  it('is the argmax of a classifier, a label output, or the value of a regressor', () => {
    expect(predictionFromOutputs('m', '1', summariseOutputs(classifierOutputs([2, 0])))?.toJSON()).toEqual({ model: 'm', version: '1', kind: 'class', values: [2, 0] });
    const labelOnly = summariseOutputs([new Tensor('label', 'INT64', [2], BigInt64Array.from([1n, 1n]))]);
    expect(predictionFromOutputs('m', '1', labelOnly)?.kind).toBe('class');
    expect(predictionFromOutputs('m', '1', summariseOutputs(regressorOutputs([1.5, 2])))?.toJSON()).toEqual({ model: 'm', version: '1', kind: 'value', values: [1.5, 2] });
    expect(predictionFromOutputs('m', '1', summariseOutputs([new Tensor('img', 'FP32', [1, 64, 64], new Float32Array(4096))]))).toBeNull();
  });
});

describe('label join and online metrics', () => {
  it('scores a known sequence of classifier labels: accuracy per model version', async () => {
    const { ev, registry } = evaluator();
    // version 1 predicts [0], [1], [2], [1,1]; version 2 predicts [2]
    ev.remember('a', 'tabular', '1', summariseOutputs(classifierOutputs([0])));
    ev.remember('b', 'tabular', '1', summariseOutputs(classifierOutputs([1])));
    ev.remember('c', 'tabular', '1', summariseOutputs(classifierOutputs([2])));
    ev.remember('d', 'tabular', '1', summariseOutputs(classifierOutputs([1, 1])));
    ev.remember('e', 'tabular', '2', summariseOutputs(classifierOutputs([2])));
    expect(await ev.label('a', 0)).toBe('joined'); // right
    expect(await ev.label('b', '2')).toBe('joined'); // wrong (numeric string)
    expect(await ev.label('c', [2])).toBe('joined'); // right
    expect(await ev.label('d', [1, 0])).toBe('joined'); // one of two right
    expect(await ev.label('e', 2)).toBe('joined'); // right
    expect(await ev.label('a', 0)).toBe('duplicate');
    expect(await ev.label('nope', 1)).toBe('unmatched');
    const v1 = { model: 'tabular', version: '1' };
    expect(await metricValue(registry, 'switchyard_online_accuracy', v1)).toBeCloseTo(3 / 5);
    expect(await metricValue(registry, 'switchyard_online_accuracy', { model: 'tabular', version: '2' })).toBe(1);
    expect(await metricValue(registry, 'switchyard_correct_predictions_total', v1)).toBe(3);
    expect(await metricValue(registry, 'switchyard_evaluated_predictions_total', { ...v1, task: 'classification' })).toBe(5);
    expect(await metricValue(registry, 'switchyard_labels_joined_total', v1)).toBe(4);
    expect(await metricValue(registry, 'switchyard_labels_received_total')).toBe(7);
    expect(await metricValue(registry, 'switchyard_labels_unmatched_total')).toBe(1);
    expect(await metricValue(registry, 'switchyard_labels_duplicate_total')).toBe(1);
  });

  it('scores a known sequence of regression labels: MAE and RMSE', async () => {
    const { ev, registry } = evaluator();
    ev.remember('r1', 'price', '3', summariseOutputs(regressorOutputs([10])));
    ev.remember('r2', 'price', '3', summariseOutputs(regressorOutputs([20, 30])));
    expect(await ev.label('r1', 13)).toBe('joined'); // error 3
    expect(await ev.label('r2', [16, 30])).toBe('joined'); // errors 4, 0
    const labels = { model: 'price', version: '3' };
    expect(await metricValue(registry, 'switchyard_online_mae', labels)).toBeCloseTo(7 / 3);
    expect(await metricValue(registry, 'switchyard_online_rmse', labels)).toBeCloseTo(Math.sqrt(25 / 3));
    expect(await metricValue(registry, 'switchyard_prediction_absolute_error_total', labels)).toBeCloseTo(7);
    expect(await metricValue(registry, 'switchyard_prediction_squared_error_total', labels)).toBeCloseTo(25);
    expect(await metricValue(registry, 'switchyard_evaluated_predictions_total', { ...labels, task: 'regression' })).toBe(3);
  });

  it('rejects malformed labels and row-count mismatches with a 400 that says what is expected, without consuming the prediction', async () => {
    const { ev } = evaluator();
    ev.remember('x', 'tabular', '1', summariseOutputs(classifierOutputs([0, 1])));
    const bad = async (id: unknown, value: unknown) => {
      const e = await ev.label(id, value).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(GatewayError);
      expect((e as GatewayError).httpStatus).toBe(400);
      return (e as GatewayError).message;
    };
    expect(await bad('x', 'cat')).toMatch(/expected a number/);
    expect(await bad('x', { a: 1 })).toMatch(/expected a number/);
    expect(await bad('x', [])).toMatch(/empty list/);
    expect(await bad('', 1)).toMatch(/non-empty request id/);
    expect(await bad('x', 1)).toMatch(/has 1 value, its prediction has 2 rows/);
    expect(await ev.label('x', [0, 1])).toBe('joined');
  });

  it('the index is bounded: the oldest predictions are forgotten and their labels are unmatched', async () => {
    const { ev, registry } = evaluator({ max_predictions: 10 });
    for (let i = 0; i < 20; i++) ev.remember(`id${i}`, 'tabular', '1', summariseOutputs(classifierOutputs([0])));
    expect(await ev.label('id0', 0)).toBe('unmatched');
    expect(await ev.label('id19', 0)).toBe('joined');
    expect(await metricValue(registry, 'switchyard_labels_unmatched_total')).toBe(1);
  });

  it('predictions expire after ttl_s', async () => {
    const { ev } = evaluator({ ttl_s: 1 });
    ev.remember('old', 'tabular', '1', summariseOutputs(classifierOutputs([0])));
    ev.remember('kept', 'tabular', '1', summariseOutputs(classifierOutputs([0])));
    expect(await ev.label('kept', 0)).toBe('joined');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await ev.label('old', 0)).toBe('unmatched');
  });

  it('when disabled nothing is remembered and every label is unmatched', async () => {
    const { ev } = evaluator({ enabled: false });
    ev.remember('a', 'tabular', '1', summariseOutputs(classifierOutputs([0])));
    expect(await ev.label('a', 0)).toBe('unmatched');
  });
});
