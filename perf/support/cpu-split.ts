/**
 * Where the machine's CPU went over consecutive intervals: the platform process (all its threads),
 * this benchmark process, and the rest of the machine (other people's work on a shared box), in
 * cores. take() returns the split since the previous take().
 */
import type { CpuSnapshot } from './platform-child';
import { cpuBetween, type PlatformProcess } from './platform-process';
import { machineCores, machineCpu } from './stats';

export interface CpuSplitFigures {
  platform: number;
  bench: number;
  other: number;
}

export class CpuSplit {
  private constructor(
    private readonly platform: PlatformProcess,
    private readonly channel: string,
    private last: { platform: CpuSnapshot; own: NodeJS.CpuUsage; machine: ReturnType<typeof machineCpu>; at: number },
  ) {}

  static async start(platform: PlatformProcess, channel: string): Promise<CpuSplit> {
    return new CpuSplit(platform, channel, { platform: await platform.cpu(channel), own: process.cpuUsage(), machine: machineCpu(), at: Date.now() });
  }

  async take(): Promise<CpuSplitFigures> {
    const now = { platform: await this.platform.cpu(this.channel), own: process.cpuUsage(), machine: machineCpu(), at: Date.now() };
    const platform = cpuBetween(this.last.platform, now.platform).processCores;
    const ownUs = now.own.user + now.own.system - this.last.own.user - this.last.own.system;
    const bench = ownUs / ((now.at - this.last.at) * 1000);
    const other = machineCores(this.last.machine, now.machine) - platform - bench;
    this.last = now;
    return { platform, bench, other };
  }
}
