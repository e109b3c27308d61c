export interface ScheduleOptions {
  /** Hosts worked on at once. */
  forks: number;
}

/** Runs `work` for every host; sequential placeholder until fleet scheduling lands. */
export async function scheduleHosts<H, R>(
  hosts: readonly H[],
  _options: ScheduleOptions,
  work: (host: H) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (const host of hosts) results.push(await work(host));
  return results;
}
