// The few parts of autocannon's API the benchmarks use (it ships no types).
declare module 'autocannon' {
  interface Request { method?: string, path?: string, headers?: Record<string, string> }
  interface Options {
    url: string
    connections?: number
    duration?: number
    /** Stop after this many requests instead of after `duration`. */
    amount?: number
    pipelining?: number
    headers?: Record<string, string>
    /** Cycled through by every connection. */
    requests?: Array<{ method?: string, path?: string, headers?: Record<string, string>, setupRequest?: (request: Request) => Request }>
  }
  interface Histogram { average: number, mean: number, stddev: number, p50: number, p99: number }
  interface Result {
    requests: Histogram & { total: number }
    latency: Histogram
    /** Seconds the run took. */
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
    '5xx': number
  }
  function autocannon (options: Options): Promise<Result>
  export default autocannon
}
