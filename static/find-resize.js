// @ts-check
/* The picture resized for the model exactly as the site's build resizes it (Python, Pillow):
   generator/inputs/images.py::model_input squashes the whole picture to size x size with Pillow's
   bilinear filter, after two shortcuts Pillow takes for large pictures:
   - a JPEG is decoded at 1/2, 1/4 or 1/8 of its size when it stays at least `size` wide and high
     (here: the full picture averaged over blocks of that many pixels, which is what the smaller decoding
     approximates);
   - a picture more than twice the target is first shrunk by a whole factor, averaging blocks ("reduce").
   The filter is Pillow's own (Resample.c): weights in fixed point with 22 bits, horizontal pass then
   vertical, each rounded to 8 bits, so that the same pixels give the same bytes.
   Works in the browser (window.SitegenResize) and in Node (module.exports), for tests. */
(function (global) {
  "use strict";
  var PRECISION_BITS = 32 - 8 - 2;

  /* Pillow's JpegImageFile.draft: the scale a JPEG is decoded at for a requested size. */
  function draftScale(width, height, size) {
    var scale = Math.min(Math.floor(width / size), Math.floor(height / size));
    var steps = [8, 4, 2, 1];
    for (var i = 0; i < steps.length; i++) { if (scale >= steps[i]) { return steps[i]; } }
    return 1;
  }

  /* Average blocks of fx x fy pixels (partial blocks at the edges average what they hold), RGB bytes. */
  function reduce(src, width, height, fx, fy) {
    var ow = Math.ceil(width / fx), oh = Math.ceil(height / fy);
    var out = new Uint8ClampedArray(ow * oh * 3);
    var sums = new Float64Array(ow * 3);
    for (var oy = 0; oy < oh; oy++) {
      sums.fill(0);
      var y0 = oy * fy, y1 = Math.min(height, y0 + fy);
      for (var y = y0; y < y1; y++) {
        var row = y * width * 3;
        for (var x = 0; x < width; x++) {
          var o = Math.floor(x / fx) * 3, p = row + x * 3;
          sums[o] += src[p]; sums[o + 1] += src[p + 1]; sums[o + 2] += src[p + 2];
        }
      }
      for (var ox = 0; ox < ow; ox++) {
        var cw = Math.min(fx, width - ox * fx), area = cw * (y1 - y0);
        var multiplier = Math.floor(16777216 / area), amend = Math.floor(area / 2);
        for (var c = 0; c < 3; c++) {
          out[(oy * ow + ox) * 3 + c] = Math.floor((sums[ox * 3 + c] + amend) * multiplier / 16777216);
        }
      }
    }
    return { data: out, width: ow, height: oh };
  }

  /* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle) filter. */
  function coefficients(inSize, in0, in1, outSize) {
    var scale = Math.fround(Math.fround(in1) - Math.fround(in0)) / outSize;
    var filterscale = Math.max(scale, 1.0);
    var support = 1.0 * filterscale;
    var ksize = Math.ceil(support) * 2 + 1;
    var bounds = new Int32Array(outSize * 2);
    var kk = new Int32Array(outSize * ksize);
    var weights = new Float64Array(ksize);
    for (var xx = 0; xx < outSize; xx++) {
      var center = Math.fround(in0) + (xx + 0.5) * scale;
      var ss = 1.0 / filterscale;
      var xmin = Math.max(0, Math.trunc(center - support + 0.5));
      var xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
      var ww = 0.0;
      for (var x = 0; x < xmax; x++) {
        var t = Math.abs((x + xmin - center + 0.5) * ss);
        var w = t < 1.0 ? 1.0 - t : 0.0;
        weights[x] = w;
        ww += w;
      }
      for (x = 0; x < xmax; x++) {
        var k = ww !== 0.0 ? weights[x] / ww : weights[x];
        kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS))
          : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
      }
      bounds[xx * 2] = xmin;
      bounds[xx * 2 + 1] = xmax;
    }
    return { ksize: ksize, bounds: bounds, kk: kk };
  }

  function clip8(v) {
    var r = Math.floor(v / (1 << PRECISION_BITS));
    return r < 0 ? 0 : (r > 255 ? 255 : r);
  }

  /* Pillow's ImagingResample with the bilinear filter on RGB bytes, box = [x0, y0, x1, y1] of the source. */
  function resample(src, width, height, outW, outH, box) {
    var h = coefficients(width, box[0], box[2], outW);
    var v = coefficients(height, box[1], box[3], outH);
    var needH = outW !== width || box[0] !== 0 || box[2] !== outW;
    var needV = outH !== height || box[1] !== 0 || box[3] !== outH;
    var yFirst = v.bounds[0], yLast = v.bounds[outH * 2 - 2] + v.bounds[outH * 2 - 1];
    var img = src, iw = width, half = 1 << (PRECISION_BITS - 1);
    var i, x, y, c, k, s;
    if (needH) {
      for (i = 0; i < outH; i++) { v.bounds[i * 2] -= yFirst; }
      var rows = yLast - yFirst, tmp = new Uint8ClampedArray(outW * rows * 3);
      for (y = 0; y < rows; y++) {
        var line = (y + yFirst) * iw * 3;
        for (x = 0; x < outW; x++) {
          var xmin = h.bounds[x * 2], xmax = h.bounds[x * 2 + 1], kb = x * h.ksize;
          for (c = 0; c < 3; c++) {
            s = half;
            for (k = 0; k < xmax; k++) { s += img[line + (xmin + k) * 3 + c] * h.kk[kb + k]; }
            tmp[(y * outW + x) * 3 + c] = clip8(s);
          }
        }
      }
      img = tmp; iw = outW;
    }
    if (!needV) { return img; }
    var out = new Uint8ClampedArray(outW * outH * 3);
    for (y = 0; y < outH; y++) {
      var ymin = v.bounds[y * 2], ymax = v.bounds[y * 2 + 1], vb = y * v.ksize;
      for (x = 0; x < outW; x++) {
        for (c = 0; c < 3; c++) {
          s = half;
          for (k = 0; k < ymax; k++) { s += img[((ymin + k) * iw + x) * 3 + c] * v.kk[vb + k]; }
          out[(y * outW + x) * 3 + c] = clip8(s);
        }
      }
    }
    return out;
  }

  /* Pillow's Image.resize(size, BILINEAR, reducing_gap=2.0) of a whole RGB picture. */
  function pillowResize(rgb, width, height, size) {
    var box = [0, 0, width, height], img = rgb, w = width, hgt = height;
    var fx = Math.floor(width / size / 2.0) || 1, fy = Math.floor(height / size / 2.0) || 1;
    if (w === size && hgt === size) { return new Uint8ClampedArray(rgb); }
    if (fx > 1 || fy > 1) {
      var r = reduce(rgb, width, height, fx, fy);
      img = r.data; w = r.width; hgt = r.height;
      box = [0, 0, width / fx, height / fy];
    }
    return resample(img, w, hgt, size, size, box);
  }

  /* The model's input from decoded RGB bytes: what model_input(path, size) returns for the same file. */
  function modelInput(rgb, width, height, size, isJpeg) {
    if (isJpeg) {
      var s = draftScale(width, height, size);
      if (s > 1) {
        var d = reduce(rgb, width, height, s, s);
        return pillowResize(d.data, d.width, d.height, size);
      }
    }
    return pillowResize(rgb, width, height, size);
  }

  var api = { draftScale: draftScale, reduce: reduce, resample: resample, pillowResize: pillowResize,
              modelInput: modelInput };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; } else { global.SitegenResize = api; }
})(this);
