/** Settings of the pack that tests and the plan command inject. */

/** The current time; tests pin it so that exception expiry is deterministic. */
export type PolicyClock = () => Date;

export interface PackOptions {
  now?: PolicyClock;
}
