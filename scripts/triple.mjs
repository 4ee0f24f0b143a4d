// The napi-rs target triple of this machine, e.g. linux-x64-gnu, darwin-arm64, win32-x64-msvc: the
// suffix of the prebuilt platform package (npm/<triple>/) that fits it. The library computes the
// same in ts/backends/cpu/locate.ts.
export function triple() {
  if (process.platform === 'linux') {
    const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
    return `linux-${process.arch}-${glibc === undefined ? 'musl' : 'gnu'}`;
  }
  return process.platform === 'win32' ? `win32-${process.arch}-msvc` : `${process.platform}-${process.arch}`;
}
