// A worker thread that runs jobs one message at a time: started on first use,
// holding the process open only while a job is pending, restarted after a
// crash (the jobs in flight then fail, and their callers retry).

import { Worker } from 'node:worker_threads';

export class JobWorker<Job extends object, Result> {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();

  constructor(private readonly script: URL) {}

  run(job: Job): Promise<Result> {
    const w = this.start();
    const id = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      try {
        w.postMessage({ ...job, id });
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script);
    w.unref();
    w.on('message', (m: { id: number; error?: string; result?: Result }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result as Result);
    });
    const fail = (e: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`worker ${this.script.pathname.split('/').pop()} exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  async terminate(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}
