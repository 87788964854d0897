import { Gauge, type Registry } from 'prom-client';

/**
 * Drift gauges, registered in the registry given; label `column` is a column name
 * (`x[3]`, `label`), bounded by drift.max_columns per tensor:
 *   switchyard_drift_psi{model,version,column}        Population Stability Index, window vs reference
 *   switchyard_drift_ks{model,version,column}         two-sample Kolmogorov-Smirnov statistic
 *   switchyard_drift_detected{model,version,column}   1 while a threshold is crossed, else 0
 *   switchyard_drift_reference_columns{model,version,source}  columns whose reference came from file | traffic | pending
 */
export class DriftMetrics {
  readonly psi: Gauge<'model' | 'version' | 'column'>;
  readonly ks: Gauge<'model' | 'version' | 'column'>;
  readonly detected: Gauge<'model' | 'version' | 'column'>;
  readonly references: Gauge<'model' | 'version' | 'source'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['model', 'version', 'column'] as const;
    this.psi = new Gauge({ name: 'switchyard_drift_psi', help: 'Population Stability Index of the recent values of a column against its reference', labelNames, registers });
    this.ks = new Gauge({ name: 'switchyard_drift_ks', help: 'Two-sample Kolmogorov-Smirnov statistic of the recent values of a column against its reference', labelNames, registers });
    this.detected = new Gauge({ name: 'switchyard_drift_detected', help: '1 while a column is past drift.psi_threshold or drift.ks_threshold, else 0', labelNames, registers });
    this.references = new Gauge({
      name: 'switchyard_drift_reference_columns',
      help: 'Watched columns per model version by where their reference came from (file = reference.json, traffic = first requests served, pending = still collecting)',
      labelNames: ['model', 'version', 'source'],
      registers,
    });
  }
}
