/** WebAssembly memory grows in pages of 64 KiB, up to 65,536 pages (4 GiB). */
export const WASM_PAGE = 65_536;
export const WASM_MAX_PAGES = 65_536;

const compiled = new Map<string, WebAssembly.Module>();

/**
 * An instance of one of the project's kernels (the base64 binary a generated *.wasm.ts module
 * exports) over `memory`, the module compiled once per process.
 */
export function instantiate<T>(base64: string, memory: WebAssembly.Memory): T {
  let module = compiled.get(base64);
  if (module === undefined) {
    module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
    compiled.set(base64, module);
  }
  return new WebAssembly.Instance(module, { env: { memory } }).exports as T;
}

/** Grows `memory` to at least `bytes`; a clear error beyond WebAssembly's 4 GiB. */
export function ensureBytes(memory: WebAssembly.Memory, bytes: number, what: string): void {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return;
  const pages = Math.ceil((bytes - have) / WASM_PAGE);
  if (have / WASM_PAGE + pages > WASM_MAX_PAGES) {
    throw new RangeError(
      `${what} needs ${Math.ceil(bytes / 2 ** 20)} MiB, above WebAssembly's 4 GiB memory limit`,
    );
  }
  memory.grow(pages);
}
