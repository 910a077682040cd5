;; Dense layers of NeuMF's MLP tower over a batch of candidates, with WebAssembly SIMD (f32x4):
;; serving's re-ranking (shared/model/neumf/tower-simd.ts owns the memory and its layout).
;;
;; Edit this file, then regenerate dense.wasm.ts with `npm run build:wasm` (a unit test fails
;; when the two disagree).
(module
  (memory (import "env" "memory") 1)

  ;; For each of `count` rows x of `inputs` floats (row k at $x + k * inputs * 4):
  ;;   y = bias + sum_i x[i] * kernel[i][0..units)   (kernel row-major, inputs x units)
  ;;   y = max(y, 0) when $relu is not 0
  ;; written at $y + k * units * 4. `units` is a multiple of 4; inputs that are exactly 0 (a
  ;; ReLU's zeros) are skipped.
  (func (export "dense")
    (param $x i32) (param $count i32) (param $inputs i32) (param $kernel i32) (param $units i32)
    (param $bias i32) (param $y i32) (param $relu i32)
    (local $k i32) (local $i i32) (local $u i32) (local $rowBytes i32) (local $xi f32) (local $vx v128)
    (local $krow i32) (local $yend i32) (local $xrow i32)
    (local.set $rowBytes (i32.shl (local.get $units) (i32.const 2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $yend (i32.add (local.get $y) (local.get $rowBytes)))
        ;; y = bias
        (local.set $u (i32.const 0))
        (block $b_done
          (loop $b
            (br_if $b_done (i32.ge_u (local.get $u) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $y) (local.get $u)) (v128.load (i32.add (local.get $bias) (local.get $u))))
            (local.set $u (i32.add (local.get $u) (i32.const 16)))
            (br $b)))
        ;; y += x[i] * kernel[i]
        (local.set $i (i32.const 0))
        (local.set $xrow (local.get $x))
        (local.set $krow (local.get $kernel))
        (block $in_done
          (loop $in
            (br_if $in_done (i32.ge_u (local.get $i) (local.get $inputs)))
            (local.set $xi (f32.load (local.get $xrow)))
            (if (f32.ne (local.get $xi) (f32.const 0))
              (then
                (local.set $vx (f32x4.splat (local.get $xi)))
                (local.set $u (i32.const 0))
                (block $acc_done
                  (loop $acc
                    (br_if $acc_done (i32.ge_u (local.get $u) (local.get $rowBytes)))
                    (v128.store (i32.add (local.get $y) (local.get $u))
                      (f32x4.add (v128.load (i32.add (local.get $y) (local.get $u)))
                                 (f32x4.mul (local.get $vx) (v128.load (i32.add (local.get $krow) (local.get $u))))))
                    (local.set $u (i32.add (local.get $u) (i32.const 16)))
                    (br $acc)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (local.set $xrow (i32.add (local.get $xrow) (i32.const 4)))
            (local.set $krow (i32.add (local.get $krow) (local.get $rowBytes)))
            (br $in)))
        ;; ReLU
        (if (local.get $relu)
          (then
            (local.set $u (i32.const 0))
            (block $r_done
              (loop $r
                (br_if $r_done (i32.ge_u (local.get $u) (local.get $rowBytes)))
                (v128.store (i32.add (local.get $y) (local.get $u))
                  (f32x4.max (v128.load (i32.add (local.get $y) (local.get $u))) (v128.const f32x4 0 0 0 0)))
                (local.set $u (i32.add (local.get $u) (i32.const 16)))
                (br $r)))))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $inputs) (i32.const 2))))
        (local.set $y (local.get $yend))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows)))))
