;; A proxy-wasm guest driven by the test. On every callback it calls the foreign function
;; "script" with (callback, context, four callback arguments) and runs the program that
;; comes back: a word holding the data area's offset, then 64-byte commands (opcode,
;; relocation mask, dereference mask, status slot, 12 arguments) that each call one
;; import, then the data area. It then sends the program buffer, with statuses filled in,
;; to the foreign function "report".
(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick (param i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func $set_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_remove_header_map_value" (func $remove_value (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_property" (func $set_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func $register_queue (param i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func $resolve_queue (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
  (import "env" "proxy_dequeue_shared_queue" (func $dequeue (param i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func $close (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $local_response (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_http_call" (func $http_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func $grpc_call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_status" (func $get_status (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_effective_context" (func $set_effective (param i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func $foreign (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_define_metric" (func $define_metric (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_increment_metric" (func $increment_metric (param i32 i64) (result i32)))
  (import "env" "proxy_record_metric" (func $record_metric (param i32 i64) (result i32)))
  (import "env" "proxy_get_metric" (func $get_metric (param i32 i32) (result i32)))
  (import "env" "proxy_get_log_level" (func $get_log_level (param i32) (result i32)))
  (import "env" "proxy_done" (func $done (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))

  (memory (export "memory") 2)
  ;; The bump allocator's next free byte; page 0 holds the fixed data below.
  (global $heap (mut i32) (i32.const 65536))
  (data (i32.const 16) "script")
  (data (i32.const 32) "report")
  ;; 256: the six script arguments; 512/516: returned pointer and length; 520/524: unused
  ;; return slots of "report".

  (func (export "proxy_abi_version_0_2_1"))
  (func (export "_initialize"))

  (func $allocate (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (block $fits
      (loop $grow
        (br_if $fits (i32.le_u (local.get $end) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then (return (i32.const 0))))
        (br $grow)))
    (global.set $heap (local.get $end))
    (local.get $ptr))

  (func $report (param $ptr i32) (param $len i32)
    (drop (call $foreign (i32.const 32) (i32.const 6) (local.get $ptr) (local.get $len)
      (i32.const 520) (i32.const 524))))

  ;; Argument $i of the command at $cmd, relocated by $base and dereferenced as flagged.
  (func $arg (param $base i32) (param $cmd i32) (param $i i32) (result i32)
    (local $v i32)
    (local.set $v (i32.load (i32.add (i32.add (local.get $cmd) (i32.const 16))
      (i32.shl (local.get $i) (i32.const 2)))))
    (if (i32.and (i32.shr_u (i32.load offset=4 (local.get $cmd)) (local.get $i)) (i32.const 1))
      (then (local.set $v (i32.add (local.get $v) (local.get $base)))))
    (if (i32.and (i32.shr_u (i32.load offset=8 (local.get $cmd)) (local.get $i)) (i32.const 1))
      (then (local.set $v (i32.load (local.get $v)))))
    (local.get $v))

  (func $interpret (param $base i32) (param $len i32) (param $result i32) (result i32)
    (local $cmd i32) (local $end i32) (local $v i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $a4 i32) (local $a5 i32)
    (local $a6 i32) (local $a7 i32) (local $a8 i32) (local $a9 i32) (local $a10 i32) (local $a11 i32)
    (local.set $cmd (local.get $base))
    ;; The first word is the byte length of the command list.
    (local.set $end (i32.add (local.get $base) (i32.load (local.get $base))))
    (local.set $cmd (i32.add (local.get $cmd) (i32.const 4)))
    (block $finished
      (loop $next
        (br_if $finished (i32.ge_u (local.get $cmd) (local.get $end)))
        (local.set $a0 (call $arg (local.get $base) (local.get $cmd) (i32.const 0)))
        (local.set $a1 (call $arg (local.get $base) (local.get $cmd) (i32.const 1)))
        (local.set $a2 (call $arg (local.get $base) (local.get $cmd) (i32.const 2)))
        (local.set $a3 (call $arg (local.get $base) (local.get $cmd) (i32.const 3)))
        (local.set $a4 (call $arg (local.get $base) (local.get $cmd) (i32.const 4)))
        (local.set $a5 (call $arg (local.get $base) (local.get $cmd) (i32.const 5)))
        (local.set $a6 (call $arg (local.get $base) (local.get $cmd) (i32.const 6)))
        (local.set $a7 (call $arg (local.get $base) (local.get $cmd) (i32.const 7)))
        (local.set $a8 (call $arg (local.get $base) (local.get $cmd) (i32.const 8)))
        (local.set $a9 (call $arg (local.get $base) (local.get $cmd) (i32.const 9)))
        (local.set $a10 (call $arg (local.get $base) (local.get $cmd) (i32.const 10)))
        (local.set $a11 (call $arg (local.get $base) (local.get $cmd) (i32.const 11)))
        (block $store
          (block $op41 (block $op40 (block $op39 (block $op38 (block $op37 (block $op36 (block $op35
          (block $op34 (block $op33 (block $op32 (block $op31 (block $op30 (block $op29
          (block $op28 (block $op27 (block $op26 (block $op25 (block $op24 (block $op23
          (block $op22 (block $op21 (block $op20 (block $op19 (block $op18 (block $op17
          (block $op16 (block $op15 (block $op14 (block $op13 (block $op12 (block $op11
          (block $op10 (block $op9 (block $op8 (block $op7 (block $op6 (block $op5
          (block $op4 (block $op3 (block $op2 (block $op1 (block $op0
            (br_table $op0 $op1 $op2 $op3 $op4 $op5 $op6 $op7 $op8 $op9 $op10 $op11 $op12
              $op13 $op14 $op15 $op16 $op17 $op18 $op19 $op20 $op21 $op22 $op23 $op24 $op25
              $op26 $op27 $op28 $op29 $op30 $op31 $op32 $op33 $op34 $op35 $op36 $op37 $op38
              $op39 $op40 $op41 $store
              (i32.load (local.get $cmd))))
          ;; 0: return a0
          (local.set $result (local.get $a0)) (br $finished))
          (local.set $v (call $log (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $now (local.get $a0))) (br $store))
          (local.set $v (call $tick (local.get $a0))) (br $store))
          (local.set $v (call $get_buffer (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $set_buffer (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $get_pairs (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $set_pairs (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $get_value (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $replace_value (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $add_value (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $remove_value (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $get_property (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3))) (br $store))
          (local.set $v (call $set_property (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3))) (br $store))
          (local.set $v (call $get_shared (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $set_shared (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $register_queue (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $resolve_queue (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4))) (br $store))
          (local.set $v (call $enqueue (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $dequeue (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $continue (local.get $a0))) (br $store))
          (local.set $v (call $close (local.get $a0))) (br $store))
          (local.set $v (call $local_response (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)
            (local.get $a4) (local.get $a5) (local.get $a6) (local.get $a7))) (br $store))
          (local.set $v (call $http_call (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3)
            (local.get $a4) (local.get $a5) (local.get $a6) (local.get $a7) (local.get $a8) (local.get $a9))) (br $store))
          (local.set $v (call $get_status (local.get $a0) (local.get $a1) (local.get $a2))) (br $store))
          (local.set $v (call $set_effective (local.get $a0))) (br $store))
          (local.set $v (call $foreign (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $a4) (local.get $a5))) (br $store))
          (local.set $v (call $define_metric (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3))) (br $store))
          (local.set $v (call $increment_metric (local.get $a0) (i64.extend_i32_s (local.get $a1)))) (br $store))
          (local.set $v (call $record_metric (local.get $a0) (i64.extend_i32_u (local.get $a1)))) (br $store))
          (local.set $v (call $get_metric (local.get $a0) (local.get $a1))) (br $store))
          (local.set $v (call $get_log_level (local.get $a0))) (br $store))
          ;; 32: trap
          unreachable)
          ;; 33: loop forever
          (loop $forever (br $forever)))
          ;; 34: grow memory by a0 pages
          (local.set $v (memory.grow (local.get $a0))) (br $store))
          ;; 35: report a0/a1 (pointer, length) to the test
          (call $report (local.get $a0) (local.get $a1)) (local.set $v (i32.const 0)) (br $store))
          (local.set $v (call $fd_write (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3))) (br $store))
          (local.set $v (call $done)) (br $store))
          (call $proc_exit (local.get $a0)) (local.set $v (i32.const 0)) (br $store))
          (local.set $v (call $clock_time_get (local.get $a0) (i64.const 0) (local.get $a1))) (br $store))
          (local.set $v (call $random_get (local.get $a0) (local.get $a1))) (br $store))
          ;; 41: store the u32 a0 at address a1
          (i32.store (local.get $a1) (local.get $a0)) (local.set $v (i32.const 0)) (br $store))
        ;; Store the status in the command's status slot.
        (i32.store (i32.add (local.get $base) (i32.load offset=12 (local.get $cmd))) (local.get $v))
        (local.set $cmd (i32.add (local.get $cmd) (i32.const 64)))
        (br $next)))
    (call $report (local.get $base) (local.get $len))
    (local.get $result))

  (func $run (param $callback i32) (param $context i32) (param $a i32) (param $b i32)
      (param $c i32) (param $d i32) (param $default i32) (result i32)
    (i32.store (i32.const 256) (local.get $callback))
    (i32.store (i32.const 260) (local.get $context))
    (i32.store (i32.const 264) (local.get $a))
    (i32.store (i32.const 268) (local.get $b))
    (i32.store (i32.const 272) (local.get $c))
    (i32.store (i32.const 276) (local.get $d))
    (i32.store (i32.const 512) (i32.const 0))
    (i32.store (i32.const 516) (i32.const 0))
    (if (call $foreign (i32.const 16) (i32.const 6) (i32.const 256) (i32.const 24)
          (i32.const 512) (i32.const 516))
      (then (return (local.get $default))))
    (if (i32.eqz (i32.load (i32.const 516))) (then (return (local.get $default))))
    (call $interpret (i32.load (i32.const 512)) (i32.load (i32.const 516)) (local.get $default)))

  (func (export "proxy_on_context_create") (param i32 i32)
    (drop (call $run (i32.const 1) (local.get 0) (local.get 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (call $run (i32.const 2) (local.get 0) (local.get 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (call $run (i32.const 3) (local.get 0) (local.get 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "proxy_on_tick") (param i32)
    (drop (call $run (i32.const 4) (local.get 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  (func (export "proxy_on_queue_ready") (param i32 i32)
    (drop (call $run (i32.const 5) (local.get 0) (local.get 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (call $run (i32.const 6) (local.get 0) (local.get 1) (local.get 2) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
    (call $run (i32.const 7) (local.get 0) (local.get 1) (local.get 2) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "proxy_on_request_trailers") (param i32 i32) (result i32)
    (call $run (i32.const 8) (local.get 0) (local.get 1) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "proxy_on_http_call_response") (param i32 i32 i32 i32 i32)
    (drop (call $run (i32.const 9) (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (i32.const 0))))
  (func (export "proxy_on_done") (param i32) (result i32)
    (call $run (i32.const 10) (local.get 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1)))
  (func (export "proxy_on_log") (param i32)
    (drop (call $run (i32.const 11) (local.get 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
  (func (export "proxy_on_delete") (param i32)
    (drop (call $run (i32.const 12) (local.get 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))))
)
