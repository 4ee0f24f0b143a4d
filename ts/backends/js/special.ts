/** Special functions in float64 (placeholders filled by the special-functions work). */
export function erf(x: number): number {
  return NaN * x;
}
export function erfinv(x: number): number {
  return NaN * x;
}
export function lgamma(x: number): number {
  return NaN * x;
}
export function digamma(x: number): number {
  return NaN * x;
}
export function trigamma(x: number): number {
  return NaN * x;
}
