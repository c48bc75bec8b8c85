import type { ChildProcess } from 'node:child_process'
import type { LogLine } from './index.ts'

/** The JSON log lines the gateway wrote so far (complete lines only). */
export function logLines (output: string): LogLine[] {
  return output.split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine)
}

/** Waits for the gateway's output to satisfy `done`; fails if the process exits first. */
export async function until (child: ChildProcess, output: () => string, done: (lines: LogLine[]) => boolean): Promise<LogLine[]> {
  for (;;) {
    const lines = logLines(output())
    if (done(lines)) return lines
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the gateway exited (${String(child.exitCode ?? child.signalCode)}):\n${output()}`)
    await new Promise<void>((resolve) => {
      const next = (): void => { child.stdout?.off('data', next); child.off('exit', next); resolve() }
      child.stdout?.on('data', next)
      child.on('exit', next)
    })
  }
}
