/**
 * The machine a load ran from, for reports: `switchyard bench`'s JSON (MachineInfo) and the
 * bench suite's header line (Machine, machineLine).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { MachineInfo } from './results.js';

export interface Machine {
  cpuModel: string;
  /** logical CPUs the OS reports */
  cpus: number;
  /** what Node may use (cgroup/affinity aware) */
  availableParallelism: number;
  memoryGiB: number;
  node: string;
  os: string;
  arch: string;
  /** the repository's commit, when there is one */
  commit: string | null;
}

/** The bench suite's description; `repoRoot` names the checkout whose commit is reported. */
export function describeMachine(repoRoot: string): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus.length > 0 ? cpus[0].model.trim() : 'unknown',
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}${distro()}`,
    arch: os.arch(),
    commit: gitCommit(repoRoot),
  };
}

/** One line, e.g. "AMD EPYC, 2 cores, 23.5 GiB, Node v20.20.2, Linux 6.1 (Debian 12), x64". */
export function machineLine(m: Machine): string {
  const cores = m.availableParallelism === m.cpus ? `${m.cpus} cores` : `${m.cpus} cores (${m.availableParallelism} usable)`;
  return `${m.cpuModel}, ${cores}, ${m.memoryGiB} GiB RAM, Node ${m.node}, ${m.os}, ${m.arch}`;
}

function distro(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    return m ? ` (${m[1]})` : '';
  } catch {
    return '';
  }
}

function gitCommit(cwd: string): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return sha === '' ? null : sha;
  } catch {
    return null;
  }
}

/** What `switchyard bench` reports: `cpus` is what Node may use (cgroup/affinity aware). */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}
