// @ts-check
/* The find page's model: the runtime (ONNX Runtime Web) loaded, the model's session prepared, and the model
   run on a picture's pixels. find.js starts this file as a Web Worker, so that preparing the model (about a
   third of a second of a processor's time) and running it never block the page: the visitor can scroll, read
   and choose while it works. Where a browser refuses to start a worker, find.js loads this same file with a
   <script> tag and calls it on the page (window.SitegenModel).
   Messages (worker): {id, kind: "load", runtime, model} -> {id, backend}; {id, kind: "run", input, size} ->
   {id, vector}; a failure -> {id, error, address} where address names the file that could not be downloaded.
   It needs nothing of the site's other scripts: its messages to visitors are written by find.js. */
(function (scope) {
  "use strict";
  var session = null;
  var backend = null;
  /** @type {any} */
  var env = scope;
  var inWorker = typeof env.importScripts === "function" && typeof env.document === "undefined";

  /** @param {string} address @return {Error & {address?: string}} */
  function notDownloaded(address) {
    var e = /** @type {Error & {address?: string}} */ (new Error("not downloaded: " + address));
    e.address = address;
    return e;
  }

  /** @param {string} url @return {Promise<ArrayBuffer>} */
  function fetchBytes(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) { throw notDownloaded(url + ", " + r.status); }
      return r.arrayBuffer();
    });
  }

  /* A script of the runtime: importScripts in a worker, a <script> tag on the page. */
  /** @param {string} src @return {Promise<void>} */
  function loadScript(src) {
    if (inWorker) {
      try { env.importScripts(src); } catch (e) { return Promise.reject(notDownloaded(src)); }
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(notDownloaded(src)); };
      document.head.appendChild(s);
    });
  }

  /* The runtime's WebGPU build where the browser offers a graphics adapter, else the WebAssembly one. */
  function gpuAdapter() {
    var gpu = /** @type {any} */ (navigator).gpu;
    if (!gpu) { return Promise.resolve(null); }
    return gpu.requestAdapter().catch(function () { return null; });
  }

  /** @param {{runtime: string, model: string}} options absolute addresses of the runtime's folder and the model
      @return {Promise<string>} the backend, "webgpu" or "wasm" */
  function load(options) {
    return gpuAdapter().then(function (adapter) {
      backend = adapter ? "webgpu" : "wasm";
      return loadScript(options.runtime + (adapter ? "ort.webgpu.min.js" : "ort.wasm.min.js"));
    }).then(function () {
      var ort = env.ort;
      ort.env.wasm.wasmPaths = options.runtime;
      // Several threads need a cross-origin isolated page, which static hosts such as GitHub Pages do not offer.
      ort.env.wasm.numThreads = env.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
      ort.env.logLevel = "error";
      return fetchBytes(options.model);
    }).then(function (buf) {
      // WebGPU first; ONNX Runtime runs on the processor whatever the graphics card cannot.
      var providers = backend === "webgpu" ? ["webgpu", "wasm"] : ["wasm"];
      return env.ort.InferenceSession.create(new Uint8Array(buf), { executionProviders: providers });
    }).then(function (s) {
      session = s;
      return backend;
    });
  }

  /** @param {Uint8Array} input the picture's RGB bytes, size x size @param {number} size
      @return {Promise<Float32Array>} the picture's vector */
  function run(input, size) {
    var tensor = new env.ort.Tensor("uint8", input, [1, size, size, 3]);
    return session.run({ pixels: tensor }).then(function (out) { return new Float32Array(out.vector.data); });
  }

  if (!inWorker) {
    env.SitegenModel = { load: load, run: run };
    return;
  }
  env.onmessage = function (/** @type {MessageEvent} */ e) {
    var m = e.data;
    var job = m.kind === "load" ? load(m).then(function (b) { return { id: m.id, backend: b }; })
      : run(new Uint8Array(m.input), m.size).then(function (v) { return { id: m.id, vector: v }; });
    job.then(function (answer) {
      env.postMessage(answer, answer.vector ? [answer.vector.buffer] : []);
    }, function (err) {
      env.postMessage({ id: m.id, error: String(err && err.message || err), address: err && err.address || null });
    });
  };
})(self);
