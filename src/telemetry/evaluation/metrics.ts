import { Counter, Gauge, type Registry } from 'prom-client';

/** Running sums of one model version's scored rows. */
class Scores {
  readonly model: string;
  readonly version: string;
  classified = 0;
  correct = 0;
  regressed = 0;
  absError = 0;
  sqError = 0;
  constructor(model: string, version: string) {
    this.model = model;
    this.version = version;
  }
}

/**
 * Online evaluation metrics, registered in the registry given:
 *   switchyard_labels_received_total                       labels received (each id once per call)
 *   switchyard_labels_unmatched_total                      labels with no remembered prediction
 *   switchyard_labels_duplicate_total                      labels for an already labelled prediction
 *   switchyard_labels_joined_total{model,version}          labels joined to their prediction
 *   switchyard_evaluated_predictions_total{model,version,task}  rows scored (task: classification | regression)
 *   switchyard_correct_predictions_total{model,version}    classification rows predicted right
 *   switchyard_prediction_absolute_error_total{model,version}   sum of |label - prediction| (regression)
 *   switchyard_prediction_squared_error_total{model,version}    sum of (label - prediction)^2 (regression)
 *   switchyard_online_accuracy{model,version}              correct / scored, since start
 *   switchyard_online_mae{model,version}, switchyard_online_rmse{model,version}   since start
 *   switchyard_prediction_store_errors_total               predictions that could not be remembered
 * The counters give windowed values in PromQL, e.g. accuracy over 1h:
 *   rate(switchyard_correct_predictions_total[1h]) / rate(switchyard_evaluated_predictions_total{task="classification"}[1h])
 */
export class EvaluationMetrics {
  readonly received: Counter;
  readonly unmatched: Counter;
  readonly duplicate: Counter;
  readonly storeErrors: Counter;
  private readonly joined: Counter<'model' | 'version'>;
  private readonly evaluated: Counter<'model' | 'version' | 'task'>;
  private readonly correct: Counter<'model' | 'version'>;
  private readonly absError: Counter<'model' | 'version'>;
  private readonly sqError: Counter<'model' | 'version'>;
  private readonly scores = new Map<string, Scores>();

  constructor(registry: Registry) {
    const registers = [registry];
    const plain = (name: string, help: string) => new Counter({ name, help, registers });
    const byVersion = (name: string, help: string) => new Counter({ name, help, labelNames: ['model', 'version'] as const, registers });
    this.received = plain('switchyard_labels_received_total', 'Ground-truth labels received on POST /v2/feedback');
    this.unmatched = plain('switchyard_labels_unmatched_total', 'Labels whose request id had no remembered prediction (unknown, expired or evicted)');
    this.duplicate = plain('switchyard_labels_duplicate_total', 'Labels for a prediction that already had one (ignored)');
    this.storeErrors = plain('switchyard_prediction_store_errors_total', 'Predictions that could not be remembered for the label join (store unreachable)');
    this.joined = byVersion('switchyard_labels_joined_total', 'Labels joined to the prediction they score');
    this.evaluated = new Counter({
      name: 'switchyard_evaluated_predictions_total',
      help: 'Prediction rows scored against a label (task: classification or regression)',
      labelNames: ['model', 'version', 'task'],
      registers,
    });
    this.correct = byVersion('switchyard_correct_predictions_total', 'Classification rows whose predicted class equals the label');
    this.absError = byVersion('switchyard_prediction_absolute_error_total', 'Sum of |label - prediction| over scored regression rows');
    this.sqError = byVersion('switchyard_prediction_squared_error_total', 'Sum of (label - prediction)^2 over scored regression rows');
    const scores = this.scores;
    const gauge = (name: string, help: string, value: (s: Scores) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['model', 'version'],
        registers,
        collect() {
          this.reset();
          for (const s of scores.values()) {
            const v = value(s);
            if (v !== null) this.set({ model: s.model, version: s.version }, v);
          }
        },
      });
    gauge('switchyard_online_accuracy', 'Fraction of labelled classification rows predicted right, since start', (s) => (s.classified > 0 ? s.correct / s.classified : null));
    gauge('switchyard_online_mae', 'Mean absolute error of labelled regression rows, since start', (s) => (s.regressed > 0 ? s.absError / s.regressed : null));
    gauge('switchyard_online_rmse', 'Root mean squared error of labelled regression rows, since start', (s) => (s.regressed > 0 ? Math.sqrt(s.sqError / s.regressed) : null));
  }

  /** A classification label joined: `correct` of `rows` rows right. */
  classified(model: string, version: string, rows: number, correct: number): void {
    const s = this.scoresOf(model, version);
    s.classified += rows;
    s.correct += correct;
    const labels = { model, version };
    this.joined.inc(labels);
    this.evaluated.inc({ model, version, task: 'classification' }, rows);
    this.correct.inc(labels, correct);
  }

  /** A regression label joined: absolute and squared errors summed over `rows` rows. */
  regressed(model: string, version: string, rows: number, absError: number, sqError: number): void {
    const s = this.scoresOf(model, version);
    s.regressed += rows;
    s.absError += absError;
    s.sqError += sqError;
    const labels = { model, version };
    this.joined.inc(labels);
    this.evaluated.inc({ model, version, task: 'regression' }, rows);
    this.absError.inc(labels, absError);
    this.sqError.inc(labels, sqError);
  }

  private scoresOf(model: string, version: string): Scores {
    const key = `${model}\u0000${version}`;
    let s = this.scores.get(key);
    if (s === undefined) {
      s = new Scores(model, version);
      this.scores.set(key, s);
    }
    return s;
  }
}
