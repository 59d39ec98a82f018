// Exit statuses shared by every `podgate` command and service.
export const EXIT = {
  ok: 0,
  /** Invalid input or configuration, or a store that cannot be opened. */
  invalid: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** A service was stopped by force: its drain deadline passed, or a second stop signal came. */
  forced: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
