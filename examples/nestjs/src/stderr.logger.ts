import { ConsoleLogger, type LogLevel } from '@nestjs/common'

/** Nest's console logger, on stderr only: stdout carries just the `listening` line. */
export class StderrLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    _writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
  ): void {
    super.printMessages(messages, context, logLevel, 'stderr', errorStack)
  }
}
