;; Inner products of one query with many rows of a row-major f32 matrix, with WebAssembly SIMD
;; (f32x4). The serving path's exact MF scan: see shared/model/dot-scan.ts, which owns the memory
;; and its layout. Rows are `lanes` x 4 floats long (padded with zeros), 16-byte aligned.
;;
;; Every inner product is summed in the same order, whichever function computes it (so a scan and
;; a gather give the same bits): two f32x4 accumulators, the even lanes into the first and the odd
;; lanes into the second, a last odd lane into the first; then first + second, then
;; (x0 + x1) + (x2 + x3).
;;
;; Edit this file, then regenerate dot-scan.wasm.ts with `npm run build:wasm` (a unit test fails
;; when the two disagree).
(module
  (memory (import "env" "memory") 1)

  (func $hsum (param $v v128) (result f32)
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
      (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))

  ;; One row: the order above.
  (func $dot (param $row i32) (param $q i32) (param $lanes i32) (result f32)
    (local $a v128) (local $b v128) (local $end i32)
    (local.set $end (i32.add (local.get $q) (i32.shl (local.get $lanes) (i32.const 4))))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.gt_u (i32.add (local.get $q) (i32.const 32)) (local.get $end)))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $row)) (v128.load (local.get $q)))))
        (local.set $b (f32x4.add (local.get $b)
          (f32x4.mul (v128.load offset=16 (local.get $row)) (v128.load offset=16 (local.get $q)))))
        (local.set $row (i32.add (local.get $row) (i32.const 32)))
        (local.set $q (i32.add (local.get $q) (i32.const 32)))
        (br $pairs)))
    (if (i32.lt_u (local.get $q) (local.get $end))
      (then
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $row)) (v128.load (local.get $q)))))))
    (call $hsum (f32x4.add (local.get $a) (local.get $b))))

  ;; out[i] = dot(row i, q) for i < n; the matrix starts at $m. Four rows per step (each query
  ;; load serves four rows, and eight independent accumulators keep the adders busy), then the
  ;; last n mod 4 rows one by one.
  (func (export "scan") (param $m i32) (param $n i32) (param $lanes i32) (param $q i32) (param $out i32)
    (local $rowBytes i32) (local $qe i32) (local $end4 i32) (local $end i32) (local $j i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $q0 v128) (local $q1 v128)
    (local $a0 v128) (local $b0 v128) (local $a1 v128) (local $b1 v128) (local $a2 v128) (local $b2 v128) (local $a3 v128) (local $b3 v128)
    (local.set $rowBytes (i32.shl (local.get $lanes) (i32.const 4)))
    (local.set $qe (i32.add (local.get $q) (local.get $rowBytes)))
    (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $r0 (local.get $m))
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.ge_u (local.get $out) (local.get $end4)))
        (local.set $r1 (i32.add (local.get $r0) (local.get $rowBytes)))
        (local.set $r2 (i32.add (local.get $r1) (local.get $rowBytes)))
        (local.set $r3 (i32.add (local.get $r2) (local.get $rowBytes)))
        (local.set $a0 (v128.const f32x4 0 0 0 0)) (local.set $b0 (v128.const f32x4 0 0 0 0)) (local.set $a1 (v128.const f32x4 0 0 0 0)) (local.set $b1 (v128.const f32x4 0 0 0 0)) (local.set $a2 (v128.const f32x4 0 0 0 0)) (local.set $b2 (v128.const f32x4 0 0 0 0)) (local.set $a3 (v128.const f32x4 0 0 0 0)) (local.set $b3 (v128.const f32x4 0 0 0 0))
        (local.set $j (local.get $q))
        (block $pairs_done
          (loop $pairs
            (br_if $pairs_done (i32.gt_u (i32.add (local.get $j) (i32.const 32)) (local.get $qe)))
            (local.set $q0 (v128.load (local.get $j)))
            (local.set $q1 (v128.load offset=16 (local.get $j)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $r0)) (local.get $q0))))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (v128.load offset=16 (local.get $r0)) (local.get $q1))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (local.get $r1)) (local.get $q0))))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (v128.load offset=16 (local.get $r1)) (local.get $q1))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (local.get $r2)) (local.get $q0))))
            (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (v128.load offset=16 (local.get $r2)) (local.get $q1))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (local.get $r3)) (local.get $q0))))
            (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (v128.load offset=16 (local.get $r3)) (local.get $q1))))
            (local.set $r0 (i32.add (local.get $r0) (i32.const 32)))
            (local.set $r1 (i32.add (local.get $r1) (i32.const 32)))
            (local.set $r2 (i32.add (local.get $r2) (i32.const 32)))
            (local.set $r3 (i32.add (local.get $r3) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $pairs)))
        (if (i32.lt_u (local.get $j) (local.get $qe))
          (then
            (local.set $q0 (v128.load (local.get $j)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $r0)) (local.get $q0))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (local.get $r1)) (local.get $q0))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (local.get $r2)) (local.get $q0))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (local.get $r3)) (local.get $q0))))
            (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
            (local.set $r1 (i32.add (local.get $r1) (i32.const 16)))
            (local.set $r2 (i32.add (local.get $r2) (i32.const 16)))
            (local.set $r3 (i32.add (local.get $r3) (i32.const 16)))
            ))
        (f32.store offset=0 (local.get $out) (call $hsum (f32x4.add (local.get $a0) (local.get $b0))))
        (f32.store offset=4 (local.get $out) (call $hsum (f32x4.add (local.get $a1) (local.get $b1))))
        (f32.store offset=8 (local.get $out) (call $hsum (f32x4.add (local.get $a2) (local.get $b2))))
        (f32.store offset=12 (local.get $out) (call $hsum (f32x4.add (local.get $a3) (local.get $b3))))
        ;; $r3 ended at the start of the next group of four
        (local.set $r0 (local.get $r3))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $quads)))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out) (call $dot (local.get $r0) (local.get $q) (local.get $lanes)))
        (local.set $r0 (i32.add (local.get $r0) (local.get $rowBytes)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $rest))))


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
        (br $rows))))
  ;; Writes to $out (i32) the indices i < n with scores[i] >= floor, in order; returns how many.
  ;; Four scores per step: a step with none at or above the floor costs one compare.
  (func (export "above") (param $scores i32) (param $n i32) (param $floor f32) (param $out i32) (result i32)
    (local $i i32) (local $count i32) (local $f v128) (local $end4 i32) (local $j i32)
    (local.set $f (f32x4.splat (local.get $floor)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $quads_done
      (loop $quads
        (br_if $quads_done (i32.ge_u (local.get $i) (local.get $end4)))
        (if (v128.any_true
              (f32x4.ge (v128.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2))))
                        (local.get $f)))
          (then
            (local.set $j (local.get $i))
            (block $four_done
              (loop $four
                (br_if $four_done (i32.ge_u (local.get $j) (i32.add (local.get $i) (i32.const 4))))
                (if (f32.ge (f32.load (i32.add (local.get $scores) (i32.shl (local.get $j) (i32.const 2))))
                            (local.get $floor))
                  (then
                    (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (local.get $j))
                    (local.set $count (i32.add (local.get $count) (i32.const 1)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $four)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quads)))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $i) (local.get $n)))
        (if (f32.ge (f32.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 2))))
                    (local.get $floor))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (local.get $i))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rest)))
    (local.get $count))
)
