// @ts-check
/* The find page: a visitor's picture compared with the artworks, in the browser. The picture is read with
   the browser's own decoder, resized as the site's build does (find-resize.js), turned into a vector by the
   site's model (ONNX Runtime Web: on the graphics card with WebGPU where the browser offers an adapter, else
   WebAssembly on the processor; find-model.js, in a Web Worker so that the page stays responsive), and
   scored against the artworks' compact index
   (generator/ml/findindex.py explains the formula). Nothing is sent anywhere: the page only downloads files
   of this site. */
(function () {
  "use strict";
  var config = document.getElementById("find-config");
  var statusBox = document.getElementById("find-status");
  var form = document.getElementById("find-form");
  var results = document.getElementById("find-results");
  var resultsTitle = document.getElementById("find-results-title");
  var preview = document.getElementById("find-preview");
  var previewCanvas = /** @type {HTMLCanvasElement} */ (document.getElementById("find-canvas"));
  var root = config.getAttribute("data-root");
  var maxPixels = Number(config.getAttribute("data-max-megapixels")) * 1e6;
  var TOP = 10;
  var ready = null;     // the promise of the model and the index
  var engine = null;    // where the model runs: a Web Worker, or this page
  var busy = false;
  var runs = 0;

  function say(text, isError) {
    statusBox.textContent = text;
    statusBox.classList.toggle("error", Boolean(isError));
  }
  function megabytes(n) { return t("%(size)s MB", {size: formatDecimal(n / 1e6, 1)}); }
  /** @param {string} message */
  function fail(message) { var e = /** @type {Error & {forVisitor?: boolean}} */ (new Error(message)); e.forVisitor = true; return e; }

  function fetchBytes(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) { throw fail(t("A file of this page could not be downloaded (%(address)s). Reload the page.", {address: url + ", " + r.status})); }
      return r.arrayBuffer();
    });
  }
  function fetchJson(url) {
    return fetchBytes(url).then(function (buf) { return JSON.parse(new TextDecoder().decode(buf)); });
  }

  /** @param {string} address */
  function notDownloaded(address) {
    return fail(t("A file of this page could not be downloaded (%(address)s). Reload the page.", {address: address}));
  }
  /* A failure of the model's file (find-model.js) in words for the visitor: the file it could not download. */
  function inWords(err) { return err && err.address ? notDownloaded(err.address) : err; }

  /* The model runs in a Web Worker (find-model.js), so that the page stays responsive while the model is
     prepared and run; on the page itself where the browser refuses to start a worker. */
  function modelEngine() {
    var script = new URL(config.getAttribute("data-model-script"), location.href).href;
    var worker = null;
    try { worker = typeof Worker === "function" ? new Worker(script) : null; } catch (e) { worker = null; }
    if (!worker) { return pageEngine(script); }
    var waiting = {}, asked = 0;
    function rejectAll(err) {
      Object.keys(waiting).forEach(function (id) { waiting[id].reject(err); });
      waiting = {};
    }
    worker.onmessage = function (e) {
      var m = e.data, w = waiting[m.id];
      delete waiting[m.id];
      if (!w) { return; }
      if (!m.error) { w.resolve(m); return; }
      var err = /** @type {Error & {address?: string}} */ (new Error(m.error));
      err.address = m.address;
      w.reject(inWords(err));
    };
    worker.onerror = function (e) {
      e.preventDefault();
      // An error without a message: the worker's own file could not be started.
      rejectAll(e.message ? new Error(e.message) : notDownloaded(script));
    };
    function ask(message, transfer) {
      return new Promise(function (resolve, reject) {
        message.id = ++asked;
        waiting[message.id] = { resolve: resolve, reject: reject };
        worker.postMessage(message, transfer);
      });
    }
    return {
      load: function (runtime, model) {
        return ask({ kind: "load", runtime: runtime, model: model }, []).then(function (m) { return m.backend; });
      },
      run: function (input, size) {
        var bytes = new Uint8Array(input);
        return ask({ kind: "run", input: bytes.buffer, size: size }, [bytes.buffer]).then(function (m) { return m.vector; });
      },
      stop: function () { worker.terminate(); rejectAll(new Error("stopped")); }
    };
  }
  function pageEngine(script) {
    var got = new Promise(function (resolve, reject) {
      loadScript(script, function (ok) {
        if (ok) { resolve(/** @type {any} */ (window).SitegenModel); } else { reject(notDownloaded(script)); }
      });
    });
    return {
      load: function (runtime, model) {
        return got.then(function (m) { return m.load({ runtime: runtime, model: model }); }).catch(function (err) { throw inWords(err); });
      },
      run: function (input, size) { return got.then(function (m) { return m.run(new Uint8Array(input), size); }); },
      stop: function () {}
    };
  }

  /* The model and the index, downloaded once. */
  function load() {
    if (ready) { return ready; }
    ready = fetchJson(config.getAttribute("data-index")).then(function (manifest) {
      var a = manifest.artworks, everyPart = !a.centres;
      var partBytes = everyPart ? a.parts.reduce(function (n, c) { return n + c.bytes; }, 0) : 0;
      say(t("Downloading the model (%(model)s) and the artworks' index (%(index)s)…",
            {model: megabytes(manifest.model.bytes), index: megabytes(partBytes + manifest.projection.bytes)}));
      if (engine) { engine.stop(); }
      engine = modelEngine();
      var runtime = new URL(config.getAttribute("data-runtime"), location.href).href;
      var model = engine.load(runtime, new URL(manifest.model.file, location.href).href);
      var state = { manifest: manifest, parts: {}, labels: {}, backend: null, partStart: [] };
      // Labels follow the parts (part 0's artworks, then part 1's…): where each part's labels start.
      a.parts.reduce(function (at, c) { state.partStart.push(at); return at + c.rows; }, 0);
      // A small collection needs every part for each query: they are downloaded now. A large one's parts
      // group similar artworks, and a query downloads only those nearest to it.
      if (everyPart) { a.parts.forEach(function (c, n) { partOf(state, n); }); }
      var extra = [fetchBytes(manifest.projection.file), a.centres ? fetchBytes(a.centres) : null];
      return Promise.all([model].concat(extra)).then(function (got) {
        state.backend = got[0];
        results.setAttribute("data-backend", got[0]);
        state.projection = new Float32Array(got[1]);
        state.centres = got[2] ? new Float32Array(got[2]) : null;
        return everyPart ? Promise.all(a.parts.map(function (c, n) { return partOf(state, n); })) : null;
      }).then(function () { return state; });
    });
    return ready;
  }

  /* ---------------------------------------------------------------- reading the picture */

  function u16be(b, i) { return (b[i] << 8) | b[i + 1]; }
  function u16le(b, i) { return b[i] | (b[i + 1] << 8); }
  function u32be(b, i) { return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; }
  function ascii(b, i, n) { return String.fromCharCode.apply(null, Array.prototype.slice.call(b, i, i + n)); }

  /* Format and size from the file's first bytes, before anything is decoded. */
  function sniff(b) {
    if (b.length >= 4 && b[0] === 0xFF && b[1] === 0xD8 && b[2] === 0xFF) {
      for (var i = 2; i + 9 < b.length;) {
        if (b[i] !== 0xFF) { i++; continue; }
        var marker = b[i + 1];
        if (marker === 0xFF) { i++; continue; }
        if (marker >= 0xC0 && marker <= 0xCF && marker !== 0xC4 && marker !== 0xC8 && marker !== 0xCC) {
          return { format: "JPEG", width: u16be(b, i + 7), height: u16be(b, i + 5) };
        }
        if (marker === 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker === 0x01) { i += 2; continue; }
        i += 2 + u16be(b, i + 2);
      }
      return { format: "JPEG", width: 0, height: 0 };
    }
    if (b.length >= 24 && ascii(b, 1, 3) === "PNG") { return { format: "PNG", width: u32be(b, 16), height: u32be(b, 20) }; }
    if (b.length >= 10 && ascii(b, 0, 4) === "GIF8") { return { format: "GIF", width: u16le(b, 6), height: u16le(b, 8) }; }
    if (b.length >= 26 && ascii(b, 0, 2) === "BM") {
      var dv = new DataView(b.buffer, b.byteOffset);
      return { format: "BMP", width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
    }
    if (b.length >= 30 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP") {
      var kind = ascii(b, 12, 4);
      if (kind === "VP8 ") { return { format: "WebP", width: u16le(b, 26) & 0x3FFF, height: u16le(b, 28) & 0x3FFF }; }
      if (kind === "VP8L") {
        var bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
        return { format: "WebP", width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1 };
      }
      if (kind === "VP8X") {
        return { format: "WebP", width: (b[24] | (b[25] << 8) | (b[26] << 16)) + 1,
                 height: (b[27] | (b[28] << 8) | (b[29] << 16)) + 1 };
      }
    }
    if (b.length >= 5 && ascii(b, 0, 5) === "%PDF-") { throw fail(t("This file is a PDF document, not a picture. Export the page as a JPEG or PNG picture and choose that.")); }
    if (b.length >= 12 && ascii(b, 4, 4) === "ftyp" && /^(heic|heix|hevc|mif1|msf1)$/.test(ascii(b, 8, 4))) {
      throw fail(t("This is a HEIC photo, which most browsers cannot read. Save it as JPEG (on an iPhone: Settings › Camera › Formats › Most Compatible) and choose it again."));
    }
    throw fail(t("This file is not a picture this page can read. Choose a JPEG, PNG, WebP, GIF or BMP picture."));
  }

  function decode(file) {
    return file.slice(0, 1 << 20).arrayBuffer().then(function (buf) {
      var info = sniff(new Uint8Array(buf));
      if (info.width * info.height > maxPixels) {
        throw fail(t("This picture is %(width)s × %(height)s pixels (%(megapixels)s megapixels), too large to read safely in a " +
                     "browser (at most %(most)s megapixels). Make it smaller and choose it again.",
                     {width: info.width, height: info.height, megapixels: Math.round(info.width * info.height / 1e6),
                      most: Math.round(maxPixels / 1e6)}));
      }
      return createImageBitmap(file, { imageOrientation: "from-image", colorSpaceConversion: "none",
                                       premultiplyAlpha: "none" }).catch(function () {
        throw fail(t("This %(format)s file could not be read: it may be damaged or incomplete. Choose another picture.", {format: info.format}));
      }).then(function (bitmap) {
        if (bitmap.width * bitmap.height > maxPixels || !bitmap.width || !bitmap.height) {
          bitmap.close();
          throw fail(t("This picture's size cannot be read safely in a browser. Make it smaller and choose it again."));
        }
        return { bitmap: bitmap, isJpeg: info.format === "JPEG" };
      });
    });
  }

  /* The picture's RGB bytes, transparency flattened on white paper as the build does. */
  function pixels(bitmap) {
    var canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    var g = canvas.getContext("2d", { willReadFrequently: true });
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(bitmap, 0, 0);
    var rgba = g.getImageData(0, 0, canvas.width, canvas.height).data;
    var rgb = new Uint8ClampedArray(canvas.width * canvas.height * 3);
    for (var i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgb[j] = rgba[i]; rgb[j + 1] = rgba[i + 1]; rgb[j + 2] = rgba[i + 2]; }
    canvas.width = canvas.height = 0;
    return rgb;
  }

  function showPreview(input, size) {
    previewCanvas.width = previewCanvas.height = size;
    var g = previewCanvas.getContext("2d");
    var img = g.createImageData(size, size);
    for (var i = 0, j = 0; j < input.length; i += 4, j += 3) {
      img.data[i] = input[j]; img.data[i + 1] = input[j + 1]; img.data[i + 2] = input[j + 2]; img.data[i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    preview.hidden = false;
  }

  /* ---------------------------------------------------------------- scoring */

  function partOf(state, n) {
    var c = state.manifest.artworks.parts[n];
    if (!state.parts[n]) {
      state.parts[n] = fetchBytes(c.vectors).then(function (buf) {
        return { ids: new Uint32Array(buf, 0, c.rows), scales: new Float32Array(buf, c.rows * 4, c.rows),
                 codes: new Int16Array(buf, c.rows * 8) };
      });
    }
    return state.parts[n];
  }

  /* The query's projection: q . mean, then the query on each axis. */
  function project(state, vector) {
    var dim = state.manifest.model.dim, dims = state.manifest.projection.dims, P = state.projection;
    var base = 0, proj = new Float32Array(dims), d, k;
    for (d = 0; d < dim; d++) { base += vector[d] * P[d]; }
    for (k = 0; k < dims; k++) {
      var s = 0, row = dim + k * dim;
      for (d = 0; d < dim; d++) { s += vector[d] * P[row + d]; }
      proj[k] = s;
    }
    return { base: base, proj: proj };
  }

  /* The parts a query reads: all of them, or the `probe` parts whose centres score highest. */
  function partsToRead(state, proj) {
    var a = state.manifest.artworks, all = a.parts.map(function (c, n) { return n; });
    if (!state.centres) { return all; }
    var dims = proj.length, C = state.centres;
    var scored = all.map(function (n) {
      var s = 0;
      for (var k = 0; k < dims; k++) { s += proj[k] * C[n * dims + k]; }
      return [s, n];
    });
    scored.sort(function (x, y) { return y[0] - x[0] || x[1] - y[1]; });
    return scored.slice(0, a.probe).map(function (x) { return x[1]; });
  }

  function score(state, vector) {
    var q = project(state, vector), dims = q.proj.length, proj = q.proj;
    var wanted = partsToRead(state, proj);
    return Promise.all(wanted.map(function (n) { return partOf(state, n); })).then(function (parts) {
      var best = [];  // [similarity, row, place among the labels], most similar first; ties keep the site's order
      parts.forEach(function (part, p) {
        var start = state.partStart[wanted[p]];
        for (var r = 0; r < part.ids.length; r++) {
          var dot = 0, off = r * dims;
          for (var k = 0; k < dims; k++) { dot += proj[k] * part.codes[off + k]; }
          var sim = q.base + part.scales[r] * dot, row = part.ids[r];
          if (best.length < TOP || sim > best[best.length - 1][0] ||
              (sim === best[best.length - 1][0] && row < best[best.length - 1][1])) {
            var at = best.length;
            while (at > 0 && (best[at - 1][0] < sim || (best[at - 1][0] === sim && best[at - 1][1] > row))) { at--; }
            best.splice(at, 0, [sim, row, start + r]);
            if (best.length > TOP) { best.pop(); }
          }
        }
      });
      return best;
    });
  }

  /* The labels of one artwork, by its place among the labels (which follow the parts): its file of labels is
     downloaded when a result first needs it. */
  function labelsOf(state, place) {
    var a = state.manifest.artworks, n = Math.floor(place / a.label_rows);
    if (!state.labels[n]) {
      var name = a.labels.replace("{n}", String(n).padStart(a.label_digits, "0"));
      state.labels[n] = fetchJson(name);
    }
    return state.labels[n].then(function (data) { return data.rows[place - n * a.label_rows]; });
  }

  function show(best, state) {
    return Promise.all(best.map(function (b) { return labelsOf(state, b[2]); })).then(function (rows) {
      results.textContent = "";
      rows.forEach(function (row, i) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = root + row[4];
        if (row[5]) {
          var img = document.createElement("img");
          img.src = root + row[5];
          img.alt = "";
          img.loading = "lazy";
          a.appendChild(img);
        }
        a.appendChild(document.createTextNode(row[1]));
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + row[2] + (row[3] ? ", " + row[3] : "") + " · " +
                                               formatDecimal(best[i][0], 3)));
        li.setAttribute("data-similarity", best[i][0].toFixed(4));
        results.appendChild(li);
      });
      resultsTitle.hidden = false;
    });
  }

  /* ---------------------------------------------------------------- one picture */

  function find(file) {
    if (!file || busy) { return; }
    busy = true;
    var started = performance.now();
    say(t("Reading the picture…"));
    results.textContent = "";
    resultsTitle.hidden = true;
    var picture = decode(file);
    Promise.all([picture, load()]).then(function (both) {
      var state = both[1], size = state.manifest.model.input_size, bitmap = both[0].bitmap;
      var input;
      try {
        input = SitegenResize.modelInput(pixels(bitmap), bitmap.width, bitmap.height, size, both[0].isJpeg);
      } finally { bitmap.close(); }
      showPreview(input, size);
      say(state.backend === "webgpu" ? t("Computing on the graphics card (WebGPU)…") : t("Computing in your browser…"));
      return engine.run(input, size).then(function (vector) {
        say(t("Comparing with the artworks…"));
        return score(state, vector).then(function (best) { return show(best, state); });
      }).then(function () {
        runs++;
        results.setAttribute("data-runs", String(runs));
        results.setAttribute("data-ms", String(Math.round(performance.now() - started)));
        say(t("The %(n)s artworks most similar to your picture, most similar first " +
              "(similarity from 0 to 1). Choose another picture to compare it too.", {n: results.children.length}));
      });
    }).catch(function (err) {
      // A message in plain words, and the page keeps working: the next picture starts afresh.
      say(err && err.forVisitor ? err.message : t("The picture could not be compared (%(error)s). Reload the page and try again.",
                                                   {error: String(err && err.message || err)}), true);
      if (!(err && err.forVisitor)) { ready = null; }
      results.setAttribute("data-failed", String(Number(results.getAttribute("data-failed") || 0) + 1));
    }).then(function () { busy = false; });
  }

  function start() {
    if (location.protocol === "file:") {
      say(t("This page cannot work when the site is opened from the disk: browsers refuse to run its model there. " +
            "Open the site on the web, or run 'sitegen serve' in a terminal and open the address it prints."), true);
      return;
    }
    if (typeof WebAssembly === "undefined" || typeof createImageBitmap === "undefined") {
      say(t("This browser cannot run the model (it lacks WebAssembly). Use a recent Firefox, Chrome, Edge or Safari."), true);
      return;
    }
    form.hidden = false;
    ["find-file", "find-camera"].forEach(function (id) {
      var input = /** @type {HTMLInputElement} */ (document.getElementById(id));
      input.addEventListener("change", function () { find(input.files[0]); input.value = ""; });
    });
    document.addEventListener("dragover", function (e) { e.preventDefault(); });
    document.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { find(e.dataTransfer.files[0]); }
    });
    load().then(function () { if (!busy) { say(t("Ready: choose a picture.")); } }).catch(function (err) {
      ready = null;
      say(err && err.forVisitor ? err.message : t("The model could not be loaded (%(error)s). Reload the page to try again.",
                                                   {error: String(err && err.message || err)}), true);
    });
  }

  start();
})();
