;; Inner products of one query with many rows of a row-major f32 matrix, with WebAssembly SIMD
;; (f32x4). The serving path's exact MF scan: see shared/model/dot-scan.ts, which owns the memory
;; and its layout. Rows are `lanes` x 4 floats long (padded with zeros), 16-byte aligned.
;;
;; Edit this file, then regenerate dot-scan.wasm.ts with `npm run build:wasm` (a unit test fails
;; when the two disagree).
(module
  (memory (import "env" "memory") 1)

  ;; sum over j < lanes of row[j] * q[j] (four partial sums, then the lanes added up)
  (func $dot (param $row i32) (param $q i32) (param $lanes i32) (result f32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $end i32)
    (local.set $end (i32.add (local.get $q) (i32.shl (local.get $lanes) (i32.const 4))))
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.gt_u (i32.add (local.get $q) (i32.const 64)) (local.get $end)))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $row)) (v128.load (local.get $q)))))
        (local.set $b (f32x4.add (local.get $b)
          (f32x4.mul (v128.load offset=16 (local.get $row)) (v128.load offset=16 (local.get $q)))))
        (local.set $c (f32x4.add (local.get $c)
          (f32x4.mul (v128.load offset=32 (local.get $row)) (v128.load offset=32 (local.get $q)))))
        (local.set $d (f32x4.add (local.get $d)
          (f32x4.mul (v128.load offset=48 (local.get $row)) (v128.load offset=48 (local.get $q)))))
        (local.set $row (i32.add (local.get $row) (i32.const 64)))
        (local.set $q (i32.add (local.get $q) (i32.const 64)))
        (br $quads)))
    (block $ones_done
      (loop $ones
        (br_if $ones_done (i32.ge_u (local.get $q) (local.get $end)))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $row)) (v128.load (local.get $q)))))
        (local.set $row (i32.add (local.get $row) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $ones)))
    (local.set $a (f32x4.add (f32x4.add (local.get $a) (local.get $b)) (f32x4.add (local.get $c) (local.get $d))))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
      (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))

  ;; out[i] = dot(row i, q) for i < n; the matrix starts at $m
  (func (export "scan") (param $m i32) (param $n i32) (param $lanes i32) (param $q i32) (param $out i32)
    (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $lanes) (i32.const 4)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (call $dot (local.get $m) (local.get $q) (local.get $lanes)))
        (local.set $m (i32.add (local.get $m) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $rows))))

  ;; out[k] = dot(row positions[k], q) for k < count; positions are i32 at $positions
  (func (export "gather")
    (param $m i32) (param $lanes i32) (param $q i32) (param $positions i32) (param $count i32) (param $out i32)
    (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $lanes) (i32.const 4)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out)
          (call $dot
            (i32.add (local.get $m) (i32.mul (i32.load (local.get $positions)) (local.get $rowBytes)))
            (local.get $q)
            (local.get $lanes)))
        (local.set $positions (i32.add (local.get $positions) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $rows)))))
