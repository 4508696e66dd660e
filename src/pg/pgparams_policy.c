/*
 * pgparams_policy.c - the project's own lists over the server's settings:
 * which settings a tenant may change (pgparams_rules, an allow-list: what a
 * managed PostgreSQL exposes - memory, planner, parallelism, WAL and
 * checkpoints, replication sizing, autovacuum, what to log, statement
 * behaviour and timeouts, locale and formatting, statistics, the settings
 * of the preloadable extensions), and which are reserved (pgparams_reserved:
 * files, addresses, archiving, recovery, SSL, log destinations, durability
 * switches, anything that runs a command or loads arbitrary code). A
 * setting in neither list is simply not changeable; the reserved list says
 * why for the ones a tenant is most likely to try, and the unit test checks
 * that the two lists never overlap.
 *
 * A rule may narrow the server's range (has_range) or bound the maximum by
 * the spec (cap): shared memory and per-operation memory by the memory,
 * WAL and temporary-file sizes by the storage, worker counts by the CPUs.
 * The preflight (pgparams_preflight) then checks the whole set against the
 * real binary, so the caps only need to be sensible, not exact.
 *
 * Rows are append-only: a row's position is the parameter's stable ID.
 */
#include <string.h>
#include <strings.h>

#include "pg/pgparams_int.h"

#define R(n, cn, fl, ...) { .name = (n), .desc_cn = (cn), .flags = (fl), __VA_ARGS__ }
#define SRC(s, v) .source = (s), .values = (v)
#define RANGE(lo, hi) .has_range = true, .min = (lo), .max = (hi)
#define CAP(kind, n, d) .cap = (kind), .cap_num = (n), .cap_den = (d)
#define ADV PGPARAMS_F_ADVANCED
#define STB PGPARAMS_F_STANDBY

static const char *const wal_levels[] = { "replica", "logical", NULL };
static const char *const date_styles[] = { "ISO, MDY", "ISO, DMY", "ISO, YMD", "SQL, MDY", "SQL, DMY",
					   "Postgres, MDY", "Postgres, DMY", "German, DMY", NULL };

const char *const pgparams_libraries[] = { "pg_stat_statements", "auto_explain", "pg_prewarm", "passwordcheck",
					   NULL };

const struct pgparams_rule pgparams_rules[] = {
	/* memory */
	R("shared_buffers", "数据库服务器使用的共享内存缓冲区大小", ADV | STB, CAP(PGPARAMS_CAP_MEMORY, 3, 4)),
	R("effective_cache_size", "规划器假设的可用磁盘缓存总大小", ADV, CAP(PGPARAMS_CAP_MEMORY, 1, 1)),
	R("work_mem", "查询工作区（排序、哈希）可用的最大内存", ADV, CAP(PGPARAMS_CAP_MEMORY, 1, 4)),
	R("maintenance_work_mem", "维护操作（VACUUM、建索引）可用的最大内存", ADV, CAP(PGPARAMS_CAP_MEMORY, 1, 2)),
	R("autovacuum_work_mem", "每个自动清理进程可用的最大内存", 0, CAP(PGPARAMS_CAP_MEMORY, 1, 2)),
	R("temp_buffers", "每个会话可用的临时缓冲区最大数量", 0, CAP(PGPARAMS_CAP_MEMORY, 1, 4)),
	R("logical_decoding_work_mem", "逻辑解码可用的最大内存", 0, CAP(PGPARAMS_CAP_MEMORY, 1, 4)),
	R("hash_mem_multiplier", "哈希操作可用内存相对 work_mem 的倍数", 0, RANGE(1, 100)),
	R("max_prepared_transactions", "可同时处于准备状态的事务最大数量", STB, RANGE(0, 2000)),
	R("wal_buffers", "WAL 使用的共享内存缓冲区大小", 0, CAP(PGPARAMS_CAP_MEMORY, 1, 16)),
	R("temp_file_limit", "每个进程可使用的临时文件总大小上限", 0, CAP(PGPARAMS_CAP_STORAGE, 1, 1)),
	/* connections */
	R("max_connections", "最大并发连接数", ADV | STB, RANGE(20, 10000), CAP(PGPARAMS_CAP_CONNECTIONS, 1, 1)),
	R("tcp_keepalives_idle", "TCP 保活探测前的空闲时间", 0),
	R("tcp_keepalives_interval", "TCP 保活探测的重传间隔", 0),
	R("tcp_keepalives_count", "TCP 保活探测的最大重传次数", 0),
	R("tcp_user_timeout", "TCP 已发送数据未确认的超时时间", 0),
	R("client_connection_check_interval", "查询执行期间检查客户端连接的间隔", 0),
	R("authentication_timeout", "完成客户端认证的最长时间", 0, RANGE(1, 600)),
	/* parallelism and background work */
	R("max_worker_processes", "后台工作进程的最大数量", ADV | STB, CAP(PGPARAMS_CAP_CPU, 4, 1)),
	R("max_parallel_workers", "可同时运行的并行工作进程最大数量", 0, CAP(PGPARAMS_CAP_CPU, 4, 1)),
	R("max_parallel_workers_per_gather", "每个 Gather 节点的并行工作进程最大数量", 0, CAP(PGPARAMS_CAP_CPU, 4, 1)),
	R("max_parallel_maintenance_workers", "每个维护操作的并行工作进程最大数量", 0, CAP(PGPARAMS_CAP_CPU, 4, 1)),
	R("parallel_leader_participation", "Gather 节点的领导进程是否也执行子计划", 0),
	R("effective_io_concurrency", "可同时发起的并发磁盘 I/O 请求数", 0),
	R("maintenance_io_concurrency", "维护操作可同时发起的并发磁盘 I/O 请求数", 0),
	R("backend_flush_after", "后端进程写入多少页后强制刷盘", 0),
	R("bgwriter_delay", "后台写进程两轮之间的休眠时间", 0),
	R("bgwriter_lru_maxpages", "后台写进程每轮最多写出的页数", 0),
	R("bgwriter_lru_multiplier", "后台写进程每轮写出页数相对近期需求的倍数", 0),
	R("bgwriter_flush_after", "后台写进程写入多少页后强制刷盘", 0),
	R("old_snapshot_threshold", "快照过旧而无法读取已被清理数据前的最长时间", 0),
	R("max_files_per_process", "每个服务器进程可同时打开的最大文件数", 0, RANGE(64, 65536)),
	/* planner */
	R("random_page_cost", "规划器对非顺序读取一个磁盘页的代价估计", ADV, RANGE(0, 1000)),
	R("seq_page_cost", "规划器对顺序读取一个磁盘页的代价估计", 0, RANGE(0, 1000)),
	R("cpu_tuple_cost", "规划器对处理每一行的代价估计", 0, RANGE(0, 1000)),
	R("cpu_index_tuple_cost", "规划器对索引扫描中处理每个索引项的代价估计", 0, RANGE(0, 1000)),
	R("cpu_operator_cost", "规划器对处理每个运算符或函数调用的代价估计", 0, RANGE(0, 1000)),
	R("parallel_setup_cost", "规划器对启动并行工作进程的代价估计", 0, RANGE(0, 1e9)),
	R("parallel_tuple_cost", "规划器对并行进程向领导进程传递每行的代价估计", 0, RANGE(0, 1e9)),
	R("min_parallel_table_scan_size", "考虑并行扫描的最小表数据量", 0),
	R("min_parallel_index_scan_size", "考虑并行扫描的最小索引数据量", 0),
	R("default_statistics_target", "未单独设置时的默认统计目标", 0),
	R("constraint_exclusion", "规划器是否使用约束来优化查询", 0),
	R("cursor_tuple_fraction", "规划器对游标将取回行数比例的估计", 0),
	R("from_collapse_limit", "子查询被合并进上层查询的 FROM 项数上限", 0, RANGE(1, 1000)),
	R("join_collapse_limit", "显式 JOIN 被展开的 FROM 项数上限", 0, RANGE(1, 1000)),
	R("plan_cache_mode", "预备语句使用通用计划还是定制计划", 0),
	R("recursive_worktable_factor", "规划器对递归查询工作表大小的估计倍数", 0),
	R("geqo", "是否启用遗传查询优化", 0),
	R("geqo_threshold", "使用遗传查询优化的 FROM 项数阈值", 0, RANGE(2, 1000)),
	R("geqo_effort", "遗传查询优化的规划耗时与质量权衡", 0),
	R("jit", "是否允许 JIT 编译", 0),
	R("jit_above_cost", "启用 JIT 编译的查询代价阈值", 0),
	R("jit_inline_above_cost", "JIT 编译时内联函数的查询代价阈值", 0),
	R("jit_optimize_above_cost", "JIT 编译时进行优化的查询代价阈值", 0),
	R("enable_async_append", "是否允许异步追加计划", 0),
	R("enable_bitmapscan", "是否允许位图扫描", 0),
	R("enable_gathermerge", "是否允许 Gather Merge 计划", 0),
	R("enable_hashagg", "是否允许哈希聚合", 0),
	R("enable_hashjoin", "是否允许哈希连接", 0),
	R("enable_incremental_sort", "是否允许增量排序", 0),
	R("enable_indexonlyscan", "是否允许仅索引扫描", 0),
	R("enable_indexscan", "是否允许索引扫描", 0),
	R("enable_material", "是否允许物化", 0),
	R("enable_memoize", "是否允许 Memoize 计划", 0),
	R("enable_mergejoin", "是否允许归并连接", 0),
	R("enable_nestloop", "是否允许嵌套循环连接", 0),
	R("enable_parallel_append", "是否允许并行追加计划", 0),
	R("enable_parallel_hash", "是否允许并行哈希计划", 0),
	R("enable_partition_pruning", "是否允许分区裁剪", 0),
	R("enable_partitionwise_aggregate", "是否允许按分区聚合", 0),
	R("enable_partitionwise_join", "是否允许按分区连接", 0),
	R("enable_seqscan", "是否允许顺序扫描", 0),
	R("enable_sort", "是否允许显式排序步骤", 0),
	R("enable_tidscan", "是否允许 TID 扫描", 0),
	/* WAL, checkpoints, replication sizing */
	R("wal_level", "写入 WAL 的信息级别", STB, SRC(PGPARAMS_S_SERVER, wal_levels)),
	R("wal_compression", "是否压缩 WAL 中的整页写入及压缩方法", 0),
	R("wal_writer_delay", "WAL 写进程两次刷写之间的时间", 0),
	R("wal_writer_flush_after", "WAL 写进程写入多少数据后刷盘", 0),
	R("wal_recycle", "是否通过重命名回收 WAL 文件", 0),
	R("wal_init_zero", "新建 WAL 文件时是否填零", 0),
	R("wal_log_hints", "非关键修改是否也写入整页镜像", 0),
	R("commit_delay", "事务提交后刷写 WAL 前的延迟", 0),
	R("commit_siblings", "启用 commit_delay 所需的最少并发事务数", 0),
	R("synchronous_commit", "事务提交时的同步级别", 0),
	R("checkpoint_timeout", "自动检查点之间的最长时间", ADV, RANGE(30, 86400)),
	R("checkpoint_completion_target", "检查点完成时间占检查点间隔的比例", 0),
	R("checkpoint_warning", "检查点过于频繁时发出警告的间隔阈值", 0),
	R("checkpoint_flush_after", "检查点写入多少页后强制刷盘", 0),
	R("max_wal_size", "触发检查点的 WAL 大小", ADV, CAP(PGPARAMS_CAP_STORAGE, 1, 2)),
	R("min_wal_size", "回收而非删除 WAL 文件的大小下限", 0, CAP(PGPARAMS_CAP_STORAGE, 1, 4)),
	R("wal_keep_size", "为备机保留的 WAL 大小", 0, CAP(PGPARAMS_CAP_STORAGE, 1, 2)),
	R("max_slot_wal_keep_size", "复制槽可保留的 WAL 最大大小", 0, CAP(PGPARAMS_CAP_STORAGE, 1, 2)),
	R("max_wal_senders", "WAL 发送进程的最大数量", STB, RANGE(5, 1000)),
	R("max_replication_slots", "复制槽的最大数量", STB, RANGE(5, 1000)),
	R("wal_sender_timeout", "等待复制端响应的最长时间", 0),
	R("track_commit_timestamp", "是否记录事务提交时间", 0),
	R("max_logical_replication_workers", "逻辑复制工作进程的最大数量", 0, RANGE(0, 256)),
	R("max_sync_workers_per_subscription", "每个订阅的表同步工作进程最大数量", 0, RANGE(0, 64)),
	R("hot_standby_feedback", "备机是否向主机反馈正在执行的查询", 0),
	/* autovacuum and vacuum */
	R("autovacuum", "是否启用自动清理", ADV),
	R("autovacuum_max_workers", "同时运行的自动清理进程最大数量", 0, RANGE(1, 64)),
	R("autovacuum_naptime", "两次自动清理检查之间的休眠时间", 0),
	R("autovacuum_vacuum_threshold", "触发清理的最少更新或删除行数", 0),
	R("autovacuum_vacuum_insert_threshold", "触发清理的最少插入行数", 0),
	R("autovacuum_analyze_threshold", "触发分析的最少插入、更新或删除行数", 0),
	R("autovacuum_vacuum_scale_factor", "触发清理的更新或删除行数占表行数的比例", 0),
	R("autovacuum_vacuum_insert_scale_factor", "触发清理的插入行数占表行数的比例", 0),
	R("autovacuum_analyze_scale_factor", "触发分析的修改行数占表行数的比例", 0),
	R("autovacuum_freeze_max_age", "为防止事务号回卷而强制清理的表年龄", 0),
	R("autovacuum_multixact_freeze_max_age", "为防止多事务号回卷而强制清理的表年龄", 0),
	R("autovacuum_vacuum_cost_delay", "自动清理的代价延迟", 0),
	R("autovacuum_vacuum_cost_limit", "自动清理休眠前可累积的代价", 0),
	R("log_autovacuum_min_duration", "记录执行时间超过该值的自动清理操作", 0),
	R("vacuum_cost_delay", "清理的代价延迟", 0),
	R("vacuum_cost_limit", "清理休眠前可累积的代价", 0),
	R("vacuum_cost_page_hit", "清理命中缓冲区中一页的代价", 0),
	R("vacuum_cost_page_miss", "清理从磁盘读取一页的代价", 0),
	R("vacuum_cost_page_dirty", "清理弄脏一页的代价", 0),
	R("vacuum_freeze_min_age", "清理冻结行的最小年龄", 0),
	R("vacuum_freeze_table_age", "清理扫描整表以冻结行的年龄", 0),
	R("vacuum_multixact_freeze_min_age", "清理冻结多事务号的最小年龄", 0),
	R("vacuum_multixact_freeze_table_age", "清理扫描整表以冻结多事务号的年龄", 0),
	R("vacuum_failsafe_age", "清理进入防回卷保护模式的年龄", 0),
	R("vacuum_multixact_failsafe_age", "清理进入多事务号防回卷保护模式的年龄", 0),
	/* what to log */
	R("log_min_duration_statement", "记录执行时间超过该值的语句（慢查询）", ADV),
	R("log_min_duration_sample", "按采样记录执行时间超过该值的语句", 0),
	R("log_statement_sample_rate", "超过 log_min_duration_sample 的语句的采样比例", 0),
	R("log_transaction_sample_rate", "记录全部语句的事务的采样比例", 0),
	R("log_statement", "记录哪类语句", 0),
	R("log_min_messages", "写入日志的消息级别", 0),
	R("log_min_error_statement", "记录导致该级别及以上错误的语句", 0),
	R("log_error_verbosity", "日志消息的详细程度", 0),
	R("log_connections", "是否记录每个连接", 0),
	R("log_disconnections", "是否记录会话结束及其时长", 0),
	R("log_duration", "是否记录每条完成语句的执行时间", 0),
	R("log_lock_waits", "是否记录超过 deadlock_timeout 的锁等待", 0),
	R("log_temp_files", "记录大小超过该值的临时文件", 0),
	R("log_checkpoints", "是否记录检查点", 0),
	R("log_parameter_max_length", "记录语句时绑定参数值的最大长度", 0),
	R("log_parameter_max_length_on_error", "报错时记录的绑定参数值最大长度", 0),
	R("log_replication_commands", "是否记录复制命令", 0),
	R("log_recovery_conflict_waits", "是否记录恢复冲突导致的长时间等待", 0),
	R("log_startup_progress_interval", "启动期间报告长时间操作进度的间隔", 0),
	R("client_min_messages", "发送给客户端的消息级别", 0),
	/* statement behaviour and timeouts */
	R("statement_timeout", "语句执行的最长时间", ADV),
	R("lock_timeout", "等待锁的最长时间", 0),
	R("idle_in_transaction_session_timeout", "事务中空闲会话的最长时间", 0),
	R("idle_session_timeout", "事务外空闲会话的最长时间", 0),
	R("deadlock_timeout", "检查死锁前等待锁的时间", 0),
	R("default_transaction_isolation", "新事务的默认隔离级别", 0),
	R("default_transaction_deferrable", "新事务默认是否可延迟", 0),
	R("default_toast_compression", "可压缩值的默认压缩方法", 0),
	R("check_function_bodies", "CREATE FUNCTION 时是否检查函数体", 0),
	R("row_security", "是否启用行安全策略", 0),
	R("bytea_output", "bytea 类型的输出格式", 0),
	R("xmlbinary", "二进制值在 XML 中的编码方式", 0),
	R("xmloption", "隐式解析和序列化 XML 时视为文档还是内容", 0),
	R("gin_pending_list_limit", "GIN 索引待处理列表的最大大小", 0),
	R("gin_fuzzy_search_limit", "GIN 精确搜索允许的最大结果数", 0),
	/* locale and formatting */
	R("DateStyle", "日期和时间的显示格式", 0, SRC(PGPARAMS_S_LIST, date_styles)),
	R("IntervalStyle", "时间间隔的显示格式", 0),
	R("TimeZone", "显示和解释时间戳使用的时区", ADV, SRC(PGPARAMS_S_TIMEZONES, NULL)),
	R("extra_float_digits", "浮点数输出的额外位数", 0),
	R("lc_messages", "消息显示的语言", 0, SRC(PGPARAMS_S_LOCALES, NULL)),
	R("lc_monetary", "货币金额的格式化区域设置", 0, SRC(PGPARAMS_S_LOCALES, NULL)),
	R("lc_numeric", "数字的格式化区域设置", 0, SRC(PGPARAMS_S_LOCALES, NULL)),
	R("lc_time", "日期和时间的格式化区域设置", 0, SRC(PGPARAMS_S_LOCALES, NULL)),
	R("default_text_search_config", "默认的全文检索配置", 0, SRC(PGPARAMS_S_TSCONFIGS, NULL)),
	R("array_nulls", "数组输入中是否识别 NULL", 0),
	R("backslash_quote", "字符串字面量中是否允许 \\'", 0),
	R("escape_string_warning", "普通字符串中出现反斜杠转义时是否警告", 0),
	R("standard_conforming_strings", "普通字符串是否按字面处理反斜杠", 0),
	R("quote_all_identifiers", "生成 SQL 时是否为所有标识符加引号", 0),
	R("transform_null_equals", "是否将 expr=NULL 视为 expr IS NULL", 0),
	R("synchronize_seqscans", "是否启用同步顺序扫描", 0),
	/* statistics */
	R("track_activities", "是否收集正在执行命令的信息", 0),
	R("track_counts", "是否收集数据库活动统计", 0),
	R("track_io_timing", "是否收集 I/O 耗时统计", 0),
	R("track_wal_io_timing", "是否收集 WAL I/O 耗时统计", 0),
	R("track_functions", "是否收集函数调用统计", 0),
	R("track_activity_query_size", "为每个活动会话记录的查询文本大小", 0, RANGE(100, 102400)),
	R("compute_query_id", "是否计算查询标识符", 0),
	R("stats_fetch_consistency", "访问统计信息时的一致性", 0),
	/* locks */
	R("max_locks_per_transaction", "每个事务可持有的平均锁数量", STB, RANGE(10, 8192)),
	R("max_pred_locks_per_transaction", "每个事务可持有的平均谓词锁数量", 0, RANGE(10, 8192)),
	R("max_pred_locks_per_relation", "单个关系上的谓词锁提升为关系锁前的数量", 0),
	R("max_pred_locks_per_page", "单页上的谓词锁提升为页锁前的数量", 0),
	/* preloaded libraries and their settings */
	R("shared_preload_libraries", "服务器启动时预加载的扩展库", ADV, SRC(PGPARAMS_S_LIBRARIES, NULL)),
	R("pg_stat_statements.max", "pg_stat_statements 跟踪的最大语句数", 0, RANGE(100, 100000)),
	R("pg_stat_statements.track", "pg_stat_statements 跟踪哪些语句", 0),
	R("pg_stat_statements.track_utility", "pg_stat_statements 是否跟踪工具命令", 0),
	R("pg_stat_statements.track_planning", "pg_stat_statements 是否跟踪规划耗时", 0),
	R("pg_stat_statements.save", "关闭时是否保存 pg_stat_statements 统计", 0),
	R("auto_explain.log_min_duration", "自动记录执行计划的语句最短执行时间", 0),
	R("auto_explain.log_analyze", "自动记录计划时是否使用 EXPLAIN ANALYZE", 0),
	R("auto_explain.log_buffers", "自动记录计划时是否包含缓冲区统计", 0),
	R("auto_explain.log_wal", "自动记录计划时是否包含 WAL 统计", 0),
	R("auto_explain.log_timing", "自动记录计划时是否包含节点计时", 0),
	R("auto_explain.log_triggers", "自动记录计划时是否包含触发器统计", 0),
	R("auto_explain.log_verbose", "自动记录计划时是否使用 EXPLAIN VERBOSE", 0),
	R("auto_explain.log_settings", "自动记录计划时是否包含修改过的配置", 0),
	R("auto_explain.log_format", "自动记录计划的输出格式", 0),
	R("auto_explain.log_level", "自动记录计划使用的日志级别", 0),
	R("auto_explain.log_nested_statements", "是否记录嵌套语句的计划", 0),
	R("auto_explain.sample_rate", "自动记录计划的语句采样比例", 0),
	R("pg_prewarm.autoprewarm", "启动时是否自动预热共享缓冲区", 0),
	R("pg_prewarm.autoprewarm_interval", "保存共享缓冲区内容清单的间隔", 0),
};

const size_t pgparams_nrules = sizeof(pgparams_rules) / sizeof(pgparams_rules[0]);

static const struct pgparams_reserved pgparams_reserved_list[] = {
	{ "data_directory", false, "the data directory is managed by the service" },
	{ "config_file", false, "configuration files are managed by the service" },
	{ "hba_file", false, "client authentication is managed by the service" },
	{ "ident_file", false, "client authentication is managed by the service" },
	{ "external_pid_file", false, "files outside the instance are not writable" },
	{ "listen_addresses", false, "the instance's address is managed by the service" },
	{ "port", false, "the instance's port is managed by the service" },
	{ "unix_socket_", true, "instances accept TCP connections only" },
	{ "bonjour", true, "service discovery is managed by the service" },
	{ "superuser_reserved_connections", false, "the service keeps its own reserved connections" },
	{ "password_encryption", false, "passwords are always stored as SCRAM-SHA-256" },
	{ "krb_", true, "client authentication is managed by the service" },
	{ "db_user_namespace", false, "client authentication is managed by the service" },
	{ "ssl", true, "TLS certificates and settings are managed by the service" },
	{ "archive_", true, "WAL archiving runs commands and belongs to backups" },
	{ "restore_command", false, "recovery runs commands and belongs to backups" },
	{ "recovery_", true, "recovery is managed by the service" },
	{ "primary_", true, "replication is managed by the service" },
	{ "promote_trigger_file", false, "failover is managed by the service" },
	{ "synchronous_standby_names", false, "replication is managed by the service" },
	{ "hot_standby", false, "standby servers are managed by the service" },
	{ "wal_sync_method", false, "durability settings are managed by the service" },
	{ "fsync", false, "turning off fsync can corrupt the data" },
	{ "full_page_writes", false, "turning off full page writes can corrupt the data" },
	{ "data_sync_retry", false, "durability settings are managed by the service" },
	{ "recovery_init_sync_method", false, "durability settings are managed by the service" },
	{ "restart_after_crash", false, "crash recovery is managed by the service" },
	{ "exit_on_error", false, "server behaviour on errors is managed by the service" },
	{ "zero_damaged_pages", false, "can destroy data" },
	{ "ignore_", true, "developer options can corrupt the data" },
	{ "allow_", true, "developer options can corrupt the data" },
	{ "default_transaction_read_only", false, "set by the service when storage is full" },
	{ "transaction_read_only", false, "set by the service when storage is full" },
	{ "huge_page", true, "shared memory is managed by the service" },
	{ "shared_memory_type", false, "shared memory is managed by the service" },
	{ "dynamic_shared_memory_type", false, "shared memory is managed by the service" },
	{ "min_dynamic_shared_memory", false, "shared memory is managed by the service" },
	{ "dynamic_library_path", false, "loading code from other paths is not allowed" },
	{ "local_preload_libraries", false, "loading code at connection time is not allowed" },
	{ "session_preload_libraries", false, "loading code at connection time is not allowed" },
	{ "jit_provider", false, "loading code is not allowed" },
	{ "extension_destdir", false, "extensions are installed by the service" },
	{ "logging_collector", false, "logs are collected by the service" },
	{ "log_destination", false, "logs are collected by the service" },
	{ "log_directory", false, "logs are collected by the service" },
	{ "log_filename", false, "logs are collected by the service" },
	{ "log_file_mode", false, "logs are collected by the service" },
	{ "log_rotation_", true, "logs are collected by the service" },
	{ "log_truncate_on_rotation", false, "logs are collected by the service" },
	{ "log_line_prefix", false, "the service reads the logs in a fixed format" },
	{ "log_timezone", false, "the service reads the logs with UTC timestamps" },
	{ "syslog_", true, "logs are collected by the service" },
	{ "event_source", false, "logs are collected by the service" },
	{ "cluster_name", false, "process titles are managed by the service" },
	{ "lo_compat_privileges", false, "would turn off large-object permission checks" },
	{ "session_replication_role", false, "would turn off triggers and foreign keys for every session" },
	{ "max_stack_depth", false, "a value above the OS limit crashes the server" },
	{ "wal_consistency_checking", false, "developer option" },
	{ "debug_", true, "developer option" },
	{ "trace_", true, "developer option" },
	{ "backtrace_functions", false, "developer option" },
	{ "jit_debugging_support", false, "developer option" },
	{ "jit_dump_bitcode", false, "developer option" },
	{ "jit_profiling_support", false, "developer option" },
	{ "pre_auth_delay", false, "developer option" },
	{ "post_auth_delay", false, "developer option" },
	{ "remove_temp_files_after_crash", false, "developer option" },
};

/* Chinese names of pg_settings' top-level categories. */
static const char *const pgparams_categories[][2] = {
	{ "Autovacuum", "自动清理" },
	{ "Client Connection Defaults", "客户端连接默认值" },
	{ "Connections and Authentication", "连接与认证" },
	{ "Customized Options", "扩展参数" },
	{ "Developer Options", "开发者选项" },
	{ "Error Handling", "错误处理" },
	{ "File Locations", "文件位置" },
	{ "Lock Management", "锁管理" },
	{ "Preset Options", "预设选项" },
	{ "Query Tuning", "查询调优" },
	{ "Replication", "复制" },
	{ "Reporting and Logging", "报告与日志" },
	{ "Resource Usage", "资源使用" },
	{ "Statistics", "统计信息" },
	{ "Version and Platform Compatibility", "版本与平台兼容性" },
	{ "Write-Ahead Log", "预写日志" },
};

const struct pgparams_rule *pgparams_rule_find(const char *name, size_t *index)
{
	for (size_t i = 0; i < pgparams_nrules; i++)
		if (strcasecmp(pgparams_rules[i].name, name) == 0) {
			if (index != NULL)
				*index = i;
			return &pgparams_rules[i];
		}
	return NULL;
}

const struct pgparams_reserved *pgparams_reserved_find(const char *name)
{
	for (size_t i = 0; i < sizeof(pgparams_reserved_list) / sizeof(pgparams_reserved_list[0]); i++) {
		const struct pgparams_reserved *r = &pgparams_reserved_list[i];
		if (r->prefix ? strncasecmp(name, r->name, strlen(r->name)) == 0 : strcasecmp(name, r->name) == 0)
			return r;
	}
	return NULL;
}

const char *pgparams_category_cn(const char *category_en)
{
	size_t len = strcspn(category_en, "/");

	while (len > 0 && category_en[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < sizeof(pgparams_categories) / sizeof(pgparams_categories[0]); i++)
		if (strlen(pgparams_categories[i][0]) == len && strncmp(pgparams_categories[i][0], category_en, len) == 0)
			return pgparams_categories[i][1];
	return "";
}

double pgparams_per_mb(const char *unit)
{
	if (strcmp(unit, "8kB") == 0)
		return 128;
	if (strcmp(unit, "kB") == 0)
		return 1024;
	if (strcmp(unit, "MB") == 0)
		return 1;
	if (strcmp(unit, "B") == 0)
		return 1024.0 * 1024.0;
	return 0;
}

bool pgparams_cap_max(const struct pgparams_rule *r, const struct pgnode_conf *spec, const char *unit,
		      double *max)
{
	double per = pgparams_per_mb(unit), v;

	switch (r->cap) {
	case PGPARAMS_CAP_MEMORY:
		v = (double)spec->memory_mb * r->cap_num / r->cap_den * per;
		break;
	case PGPARAMS_CAP_STORAGE:
		v = (double)spec->storage_gb * 1024.0 * r->cap_num / r->cap_den * per;
		break;
	case PGPARAMS_CAP_CPU:
		v = (double)spec->cpu * r->cap_num;
		v = v < 8 ? 8 : v;
		break;
	case PGPARAMS_CAP_CONNECTIONS:
		v = spec->memory_mb / 2;
		v = v < 100 ? 100 : v > 10000 ? 10000 : v;
		break;
	default:
		return false;
	}
	if ((r->cap == PGPARAMS_CAP_MEMORY || r->cap == PGPARAMS_CAP_STORAGE) && per == 0)
		return false;
	*max = (double)(long long)v;
	return true;
}
