#!/usr/bin/env python3
"""derive_api.py - build api/pgfleet-api.json, the project's one API data file.

pgfleet speaks the TencentDB for PostgreSQL API (postgres, 2017-03-12). Two
sources describe it:

  * api-spec.json, the index parsed from the seed document (89 actions, their
    parameters, data types, error codes, hand-checked enums and ranges);
  * the official Node SDK's models (postgres_models.d.ts), generated from the
    live API definition: its names are the ones real clients send, and it
    knows request parameters and response fields newer than the seed.

This script merges them: the 89 actions of the seed, with the SDK's spelling
where the two differ and the SDK-only fields of those actions added (with SDK
types), every data type they reference, and the error registry. Enums and
ranges are kept only where they are closed, complete validation rules; the
exceptions are listed in FIELD_FIXES below, each with its reason, and the
script fails if a fix no longer applies (so a changed seed is noticed).

The output is committed, so a clean clone builds without the sources:
tools/gen_api.py turns it into C (`make gen`). Run this script again only
when the sources change:

    python3 tools/derive_api.py [--spec PATH] [--sdk PATH] [--out PATH]

Output is deterministic: sorted keys, fields in document order.
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SPEC = os.path.join(ROOT, "..", "shared", "reference", "api-spec.json")
DEFAULT_SDK = ("/tmp/npmt/node_modules/tencentcloud-sdk-nodejs/tencentcloud/"
               "services/postgres/v20170312/postgres_models.d.ts")
DEFAULT_OUT = os.path.join(ROOT, "api", "pgfleet-api.json")

SCALARS = ("String", "Integer", "Float", "Boolean", "Timestamp")
PERIOD_MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36]

# Corrections to the seed's validation data. Key: (owner kind, owner name,
# list, field); list is "inputs"/"outputs" for actions, "fields" for types.
# Value: (operation, argument, reason). Operations: drop_enum, set_enum,
# drop_range, set_range, drop_items.
FIELD_FIXES = {
    ("action", "CreateInstances", "inputs", "Period"):
        ("set_enum", PERIOD_MONTHS,
         "the seed lost 8 and 9 here; every other Period (and the SDK) lists 1..12, 24, 36"),
    ("action", "CreateInstances", "inputs", "DBMajorVersion"):
        ("drop_enum", None, "versions are validated against the installed PostgreSQL builds"),
    ("type", "DBInstance", "fields", "DBMajorVersion"):
        ("drop_enum", None, "versions are those installed, not a fixed list"),
    ("action", "CreateServerlessDBInstance", "inputs", "Zone"):
        ("drop_enum", None, "beta-test zone list; zones come from the configuration"),
    ("action", "CreateServerlessDBInstance", "inputs", "DBVersion"):
        ("drop_enum", None, "versions are validated against the installed PostgreSQL builds"),
    ("action", "InquiryPriceCreateDBInstances", "inputs", "InstanceChargeType"):
        ("drop_enum", None,
         "printed list (POSTPAID_BY_HOUR only) is incomplete: the example sends PREPAID, "
         "the SDK documents PREPAID and POSTPAID; the handler normalises the value"),
    ("action", "InquiryPriceUpgradeDBInstance", "inputs", "InstanceChargeType"):
        ("drop_enum", None, "deprecated parameter (SDK): accepted and ignored"),
    ("action", "DescribeAccounts", "inputs", "OrderBy"):
        ("set_enum", ["createTime", "name", "updateTime"], "the SDK adds updateTime"),
    ("action", "DescribeDBInstances", "inputs", "Limit"):
        ("set_range", {"min": 0, "max": 100}, "SDK: 0..100, 0 means the default (10)"),
    ("action", "DescribeDBBackups", "inputs", "Limit"):
        ("set_range", {"min": 0, "max": 100}, "the seed says 0 (or absent) means the default (20)"),
    ("action", "ModifyBackupPlan", "inputs", "BackupPeriod"):
        ("drop_enum", None,
         "incomplete: the SDK also allows month days as digit strings (\"1\", \"2\")"),
    ("action", "ModifyBackupDownloadRestriction", "inputs", "VpcRestrictionEffect"):
        ("set_enum", ["ALLOW", "DENY", ""], "empty when no VPC restriction is given"),
    ("action", "ModifyBackupDownloadRestriction", "inputs", "IpRestrictionEffect"):
        ("set_enum", ["ALLOW", "DENY", ""], "the seed's example sends \"\" with an empty IpSet"),
    ("action", "DescribeBackupDownloadRestriction", "outputs", "VpcRestrictionEffect"):
        ("set_enum", ["ALLOW", "DENY", ""], "empty when no VPC restriction is set"),
    ("action", "DescribeBackupDownloadRestriction", "outputs", "IpRestrictionEffect"):
        ("set_enum", ["ALLOW", "DENY", ""], "empty when no IP restriction is set (seed example)"),
    ("type", "BackupDownloadRestriction", "fields", "VpcRestrictionEffect"):
        ("set_enum", ["ALLOW", "DENY", ""], "empty when no VPC restriction is given"),
    ("type", "BackupDownloadRestriction", "fields", "IpRestrictionEffect"):
        ("set_enum", ["ALLOW", "DENY", ""], "empty when no IP restriction is given"),
    ("action", "DescribeDBErrlogs", "outputs", "TotalCount"):
        ("drop_range", None, "informational (\"maximum value: 10000\")"),
    ("type", "DBInstance", "fields", "PayType"):
        ("set_enum", ["prepaid", "postpaid"],
         "printed PREPAID/postpaid; the examples and the SDK use prepaid/postpaid"),
    ("type", "DBInstance", "fields", "DBInstanceStatus"):
        ("drop_enum", None, "incomplete: the SDK lists more states (disisolating, cloning, ...)"),
    ("type", "DBInstanceNetInfo", "fields", "NetType"):
        ("set_enum", ["inner", "private", "public"],
         "printed inner/public; the SDK lists inner, private, public (examples: private)"),
    ("type", "DBBackup", "fields", "Way"):
        ("drop_enum", None, "incomplete: only 0 is named, the example returns 1"),
    ("type", "PgDeal", "fields", "PayMode"):
        ("drop_enum", None, "incomplete: the seed names only 0, the SDK 0 and 1"),
    ("action", "IsolateDBInstances", "inputs", "DBInstanceIdSet"):
        ("drop_items", None, "the SDK accepts several IDs"),
    ("action", "DisIsolateDBInstances", "inputs", "DBInstanceIdSet"):
        ("drop_items", None, "the SDK accepts several IDs"),
    ("action", "ModifyDBInstancesProject", "inputs", "DBInstanceIdSet"):
        ("drop_items", None, "the SDK accepts several IDs"),
    ("action", "SetAutoRenewFlag", "inputs", "DBInstanceIdSet"):
        ("drop_items", None, "the SDK accepts several IDs"),
}

# Seed names the SDK spells differently (the SDK's is what clients use).
RENAMES = {
    ("type", "DBInstance", "StatusInReadOnlyGroup"): "StatusInReadonlyGroup",
}


def _ci_key(code):
    """Per-action error spellings that differ from a registry code only by
    letter case would give two codes one C symbol: they map to the registry's
    spelling (recorded in error_aliases)."""
    return code.lower()


# zh-CN messages. Codes missing here get "" and the runtime uses English.
ZH = {
    "AccountNotExist": "当前账号不存在。",
    "ActionOffline": "接口已下线。",
    "AuthFailure": "CAM签名/鉴权错误。",
    "AuthFailure.InvalidAuthorization": "请求头部的 Authorization 不符合腾讯云标准。",
    "AuthFailure.InvalidSecretId": "密钥非法（不是云 API 密钥类型）。",
    "AuthFailure.MFAFailure": "MFA 错误。",
    "AuthFailure.SecretIdNotFound": "密钥不存在。请检查密钥是否已被删除或禁用，以及是否填写正确，注意前后不得有空格。",
    "AuthFailure.SignatureExpire": "签名过期。Timestamp 与服务器时间相差不得超过五分钟，请检查本地时间是否与标准时间同步。",
    "AuthFailure.SignatureFailure": "签名错误。",
    "AuthFailure.TokenFailure": "token 错误。",
    "AuthFailure.UnauthorizedOperation": "请求未授权。",
    "DBError": "后台DB执行错误。",
    "DryRunOperation": "DryRun 操作，代表请求将会是成功的，只是多传了 DryRun 参数。",
    "FailedOperation": "操作失败。",
    "FailedOperation.AllocateQuotasError": "申请资源标签的配额失败。",
    "FailedOperation.BaseNetworkAccessError": "访问基础网络服务失败，请稍后重试。",
    "FailedOperation.CMQResponseError": "访问CMQ失败。",
    "FailedOperation.CamAuthFailed": "CAM鉴权失败。",
    "FailedOperation.CamCheckResourceError": "获取权限失败，请稍后重试。",
    "FailedOperation.CamCheckResourceFailed": "CAM资源检查失败。",
    "FailedOperation.CamSigAndAuthError": "鉴权失败，请稍后重试。",
    "FailedOperation.CdbCgwConnectError": "获取项目信息失败，请稍后重试。",
    "FailedOperation.CreateBasicNetworkDeniedError": "不支持新增基础网络。",
    "FailedOperation.CreateOrderFailed": "创建续费订单失败。",
    "FailedOperation.DatabaseAccessError": "访问管控元数据库失败，请稍后重试。",
    "FailedOperation.DatabaseAffectedError": "数据操作失败。",
    "FailedOperation.DeleteAllRoute": "删除VPC路由失败。",
    "FailedOperation.DeleteResourceProjectTagError": "资源解绑项目失败。",
    "FailedOperation.DeleteResourcesToTagError": "资源解绑标签失败。",
    "FailedOperation.ESConnectError": "访问ES失败，请稍后重试。",
    "FailedOperation.ESQueryError": "查询ES失败，请稍后重试。",
    "FailedOperation.FailedOperationError": "操作失败，请稍后重试。",
    "FailedOperation.FlowCreateError": "创建任务失败，请稍后重试。",
    "FailedOperation.GetInstanceByResourceIdError": "查询实例信息失败，请稍后重试。",
    "FailedOperation.GetPurchaseRecordFailed": "获取购买记录失败。",
    "FailedOperation.GetSubnetError": "获取VPC子网失败。",
    "FailedOperation.GetVpcInfoError": "获取VPC信息失败，请稍后重试。",
    "FailedOperation.IllegalROInstanceNum": "只读实例数目非法。",
    "FailedOperation.InvalidAccountStatus": "当前账号状态不正确，不允许操作。",
    "FailedOperation.InvalidTradeOperate": "计费相关错误，不允许对当前实例进行对应的新购/续费/配置变更操作。",
    "FailedOperation.LimitOperation": "实例被限制操作。",
    "FailedOperation.MasterInstanceQueryError": "查询主实例信息失败。",
    "FailedOperation.ModifyROGroupError": "修改只读组配置失败。",
    "FailedOperation.NetworkNumLimitError": "不符合资源所拥有的网络数量要求。",
    "FailedOperation.NoAvailableStandby": "实例无可用备机。",
    "FailedOperation.OperateFrequencyLimitedError": "操作超过频率限制，请稍后重试。",
    "FailedOperation.OssAccessError": "访问管控服务失败，请稍后重试。",
    "FailedOperation.OssOperationFailed": "请求后端接口失败。",
    "FailedOperation.PayOrderFailed": "支付订单失败。",
    "FailedOperation.PostPaidUnblockError": "按量计费实例解冻失败，请稍后重试。",
    "FailedOperation.PreCheckError": "操作预检查失败。",
    "FailedOperation.PresignedURLGetError": "获取预签名授权URL失败。",
    "FailedOperation.QueryDealFailed": "查询订单信息失败。",
    "FailedOperation.QueryInstanceBatchError": "批量查询实例信息失败，请稍后重试。",
    "FailedOperation.QueryPriceFailed": "查询价格失败。",
    "FailedOperation.QuerySpecBySpecCodeError": "查询规格信息失败。",
    "FailedOperation.QuerySpecError": "查询规格信息失败，请稍后重试。",
    "FailedOperation.QueryTradeStatusError": "查询订单交易状态失败。",
    "FailedOperation.QueryVpcFailed": "查询VPC失败。",
    "FailedOperation.QueryVpcFalied": "获取VPC详情失败。",
    "FailedOperation.ROGroupCannotBeDeletedError": "只读组中还有实例，不允许删除该只读组。",
    "FailedOperation.ROGroupMasterInstanceNotRight": "只读组的主实例信息不匹配。",
    "FailedOperation.ROGroupNotFound": "只读组不存在。",
    "FailedOperation.ROGroupNotFoundError": "只读组不存在。",
    "FailedOperation.ROGroupNumExceedError": "只读组数量已达到上限。",
    "FailedOperation.ROInstanceHasInROGroupError": "只读实例已在其他只读组中。",
    "FailedOperation.ServerlessNotSupportedError": "Serverless实例不支持此操作。",
    "FailedOperation.ServiceAccessError": "访问内部服务失败，请稍后重试。",
    "FailedOperation.SetAutoRenewFlagError": "设置自动续费标记失败。",
    "FailedOperation.StorageMemoryCheckError": "实例升配时，存储和内存需要高于原实例规格。",
    "FailedOperation.StorePathSplitError": "存储路径格式不正确。",
    "FailedOperation.TradeAccessError": "访问计费平台失败，请稍后重试。",
    "FailedOperation.TradeCreateError": "请求计费平台创建订单失败。",
    "FailedOperation.TradePayOrdersError": "请求支付订单失败。",
    "FailedOperation.TradeQueryOrderError": "查询订单信息失败，请稍后重试。",
    "FailedOperation.TradeQueryPriceError": "查询价格信息失败，请稍后重试。",
    "FailedOperation.UpdateResourceProjectTagValueError": "修改资源标签失败。",
    "FailedOperation.VPCResetServiceError": "VPC设置失败。",
    "FailedOperation.VPCUpdateRouteError": "更新VPC路由失败。",
    "FailedOperation.WhitelistConnectError": "查询白名单失败，请稍后重试。",
    "FlowError": "创建任务失败。",
    "InstanceNotExist": "当前实例不存在。",
    "InterfaceNameNotFound": "ACTION输入错误。",
    "InternalError": "内部错误。",
    "InternalError.CgwError": "CGW相关错误。",
    "InternalError.CnsError": "基础网络相关错误。",
    "InternalError.DBError": "后台DB执行错误。",
    "InternalError.DfwError": "DFW相关错误。",
    "InternalError.FlowError": "创建流程失败。",
    "InternalError.InstanceDataError": "访问管控元数据失败。",
    "InternalError.InternalHttpServerError": "请求执行异常。",
    "InternalError.InternalServerError": "请求执行异常。",
    "InternalError.MarshalError": "后台数据解析失败。",
    "InternalError.SystemError": "系统错误。",
    "InternalError.TransactionBeginError": "开启事务失败。",
    "InternalError.UnknownError": "未知错误。",
    "InternalError.VpcError": "VPC相关错误。",
    "InternalServerError": "内部错误。",
    "InternalServerError.CnsError": "基础网络相关错误。",
    "InternalServerError.DBError": "后台DB执行错误。",
    "InternalServerError.DfwError": "DFW相关错误。",
    "InternalServerError.FlowError": "创建流程失败。",
    "InternalServerError.InternalHttpServerError": "请求执行异常。",
    "InternalServerError.SystemError": "系统错误。",
    "InternalServerError.UnknownError": "未知错误。",
    "InternalServerError.VpcError": "VPC相关错误。",
    "InvalidAccountPassword": "账号密码不正确。",
    "InvalidAccountStatus": "当前账号状态不正确，不允许操作。",
    "InvalidAction": "接口不存在。",
    "InvalidInstanceStatus": "实例状态错误。",
    "InvalidParameter": "参数错误。",
    "InvalidParameter.InstanceNameExist": "实例名已存在。",
    "InvalidParameter.ParameterCheckError": "参数检查失败。",
    "InvalidParameter.ParametersNotSet": "参数不可全部为空，至少需要设置其中一个。",
    "InvalidParameter.TradeAccessDeniedError": "PID错误。",
    "InvalidParameter.VpcNotFound": "未获取到VPC信息。",
    "InvalidParameter.VpcNotFoundError": "未获取到VPC信息。",
    "InvalidParameterValue": "参数取值错误。",
    "InvalidParameterValue.AccountExist": "当前账号已存在。",
    "InvalidParameterValue.AccountNotExist": "当前账号不存在。",
    "InvalidParameterValue.AccountNotExistError": "账号不存在。",
    "InvalidParameterValue.BadSpec": "要变更到的实例规格目前不售卖。",
    "InvalidParameterValue.CharsetNotFound": "数据库字符集错误。",
    "InvalidParameterValue.CharsetNotFoundError": "数据库字符集错误。",
    "InvalidParameterValue.DataConvertError": "数据格式转换失败。",
    "InvalidParameterValue.IllegalChargeType": "不支持的计费类型。",
    "InvalidParameterValue.IllegalInstanceChargeType": "计费模式错误。",
    "InvalidParameterValue.IllegalProjectId": "非法的ProjectId。",
    "InvalidParameterValue.IllegalRegion": "非法的Region参数。",
    "InvalidParameterValue.IllegalZone": "非法的Zone参数。",
    "InvalidParameterValue.InstanceNameExist": "名称已存在。",
    "InvalidParameterValue.InstanceNotExist": "当前实例不存在。",
    "InvalidParameterValue.InterfaceNameNotFound": "ACTION输入错误。",
    "InvalidParameterValue.InvalidAccountError": "账号设置无效：账号名需要1-16个字符，只能由字母、数字或下划线组成；不能为postgres；不能以数字或pg_开头；规则均不区分大小写。",
    "InvalidParameterValue.InvalidAccountFormat": "账号格式不正确。",
    "InvalidParameterValue.InvalidAccountName": "当前账号名称不允许是保留字。",
    "InvalidParameterValue.InvalidCharset": "数据库字符集错误，当前只支持UTF8、LATIN1。",
    "InvalidParameterValue.InvalidInstanceNum": "购买实例数超过限制。",
    "InvalidParameterValue.InvalidInstanceVolume": "变更后的实例规格不能小于当前实例规格。",
    "InvalidParameterValue.InvalidOrderNum": "计费相关错误，订单类型ID无效。",
    "InvalidParameterValue.InvalidParameterValueError": "参数值有误。",
    "InvalidParameterValue.InvalidPasswordFormat": "密码格式不正确。",
    "InvalidParameterValue.InvalidPasswordLengthError": "密码设置无效，长度不满足规则。",
    "InvalidParameterValue.InvalidPasswordValueError": "密码设置无效：不能以“/”开头，必须同时包含大写字母、小写字母、数字和符号。",
    "InvalidParameterValue.InvalidPid": "PID参数输入错误。",
    "InvalidParameterValue.InvalidReadOnlyGroupStatus": "只读组状态错误。",
    "InvalidParameterValue.InvalidRegionIdError": "无效的地域。",
    "InvalidParameterValue.InvalidZoneIdError": "无效的可用区。",
    "InvalidParameterValue.NullDealNames": "输入的订单名为空。",
    "InvalidParameterValue.ParameterCharacterError": "参数无效，只允许字母、数字、下划线和中划线。",
    "InvalidParameterValue.ParameterCharacterLimitError": "参数不满足规则，请修改后重试。",
    "InvalidParameterValue.ParameterCharacterPreLimitError": "参数前缀不满足规则，请修改后重试。",
    "InvalidParameterValue.ParameterHandleError": "参数处理失败，请检查参数值是否有效。",
    "InvalidParameterValue.ParameterLengthLimitError": "参数长度超过限制。",
    "InvalidParameterValue.ParameterOutOfRange": "参数超出可设置范围。",
    "InvalidParameterValue.ParameterOutOfRangeError": "存在无效的参数值。",
    "InvalidParameterValue.ParameterValueExceedError": "参数值超过上限。",
    "InvalidParameterValue.ReadOnlyGroupNotExist": "只读组不存在。",
    "InvalidParameterValue.RegionNotSupported": "不支持当前地域。",
    "InvalidParameterValue.SpecNotRecognizedError": "无法识别规格信息（{{1}}）。",
    "InvalidParameterValue.StructParseFailed": "解析参数出错。",
    "InvalidPid": "PID参数输入错误。",
    "InvalidRequest": "请求 body 的 multipart 格式错误。",
    "IpInBlacklist": "IP地址在黑名单中。",
    "IpNotInWhitelist": "IP地址不在白名单中。",
    "LimitExceeded": "超过配额限制。",
    "LimitOperation": "实例被限制操作。",
    "MissingParameter": "缺少参数错误。",
    "NoSuchProduct": "产品不存在。",
    "NoSuchVersion": "接口版本不存在。",
    "OperationDenied.CamDeniedError": "当前操作被限制。",
    "OperationDenied.DTSInstanceStatusError": "目标实例状态检查不通过。",
    "OperationDenied.InstanceAccessDeniedError": "您没有权限操作当前资源。",
    "OperationDenied.InstanceIpv6NotSupportedError": "不支持IPv6。",
    "OperationDenied.InstanceStatusDeniedError": "实例状态限制当前操作。",
    "OperationDenied.InstanceStatusLimitError": "实例当前状态限制本次操作。",
    "OperationDenied.InstanceStatusLimitOpError": "实例状态限制当前操作。",
    "OperationDenied.InstanceTypeDenied": "实例类型错误。",
    "OperationDenied.NotSupportZoneError": "该可用区不支持Serverless。",
    "OperationDenied.PayModeError": "不支持的付费类型。",
    "OperationDenied.PostPaidPayModeError": "按量付费实例不支持续费。",
    "OperationDenied.ROGroupStatusError": "只读组状态限制当前操作。",
    "OperationDenied.ROInstanceCountExceedError": "只读节点总数不能超过上限。",
    "OperationDenied.ROInstanceIpv6NotSupportedError": "只读实例不支持IPv6。",
    "OperationDenied.ROInstanceStatusLimitOpError": "只读实例状态限制当前操作。",
    "OperationDenied.RoInstanceCountExeedError": "只读节点总数不能超过上限。",
    "OperationDenied.UserNotAuthenticatedError": "用户未进行实名认证，请先完成实名认证再购买。",
    "OperationDenied.VersionNotSupportError": "该PostgreSQL版本不支持Serverless。",
    "OperationDenied.VpcDeniedError": "您没有权限操作该VPC网络。",
    "RegionNotSupported": "不支持当前地域。",
    "RequestLimitExceeded": "请求的次数超过了频率限制。",
    "RequestLimitExceeded.GlobalRegionUinLimitExceeded": "主账号超过频率限制。",
    "RequestLimitExceeded.IPLimitExceeded": "IP请求次数超过频率限制。",
    "RequestLimitExceeded.UinLimitExceeded": "主账号请求次数超过频率限制。",
    "RequestSizeLimitExceeded": "请求包超过限制大小。",
    "ResourceInUse": "资源被占用。",
    "ResourceInsufficient": "资源不足。",
    "ResourceInsufficient.ResourceNotEnough": "当前地域购买此规格的实例没有足够的资源。",
    "ResourceNotFound": "资源不存在。",
    "ResourceNotFound.InstanceNotFoundError": "实例不存在。",
    "ResourceUnavailable": "资源不可用。",
    "ResourceUnavailable.InvalidInstanceStatus": "实例状态错误。",
    "ResourceUnavailable.ResourceNoPermission": "没有该VPC网络的权限。",
    "ResourceUnavailable.VpcResourceNotFound": "没有找到实例所属VPC的信息。",
    "ResponseSizeLimitExceeded": "返回包超过限制大小。",
    "ServiceUnavailable": "当前服务暂时不可用。",
    "StructParseFailed": "解析参数出错。",
    "SystemError": "系统错误。",
    "UnauthorizedOperation": "未授权操作。",
    "UnauthorizedOperation.UserHasNoRealnameAuthentication": "用户未进行实名认证。",
    "UnknownError": "未知错误。",
    "UnknownParameter": "未知参数错误，请求中含有未定义的参数。",
    "UnsupportedOperation": "操作不支持。",
    "UnsupportedProtocol": "HTTP(S)请求协议错误，只支持 GET 和 POST 请求。",
    "UnsupportedRegion": "接口不支持所传地域。",
    "VpcError": "VPC相关错误。",
}

# Codes pgfleet's own code relies on: fail if the sources ever lose one.
REQUIRED_CODES = (
    "InternalError", "InvalidParameter", "InvalidParameterValue", "MissingParameter",
    "UnknownParameter", "InvalidAction", "AuthFailure.SignatureFailure",
    "AuthFailure.SignatureExpire", "RequestLimitExceeded",
    "OperationDenied.InstanceStatusLimitError", "ResourceNotFound.InstanceNotFoundError",
    "InvalidParameterValue.InstanceNotExist", "OperationDenied.PostPaidPayModeError",
)


def die(msg):
    sys.stderr.write("derive_api: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------- SDK models

def clean_comment(raw):
    """JSDoc body -> one line of plain text (HTML tags and '*' gutters removed)."""
    text = re.sub(r"^\s*\*\s?", "", raw.strip(), flags=re.M)
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return " ".join(text.split())


def parse_sdk(path):
    """Parse postgres_models.d.ts: {interface: {"doc": str, "fields": [...]}}.

    Each field is {"name", "ts" (TypeScript type), "required", "doc"}."""
    try:
        src = open(path, encoding="utf-8").read()
    except OSError as exc:
        die("cannot read SDK models %s: %s" % (path, exc))
    out = {}
    pat = re.compile(r"/\*\*(.*?)\*/\s*\nexport interface (\w+) \{\n(.*?)\n\}", re.S)
    for m in pat.finditer(src):
        fields = []
        for fm in re.finditer(r"/\*\*(.*?)\*/\s*\n\s+(\w+)(\??): ([^;]+);", m.group(3), re.S):
            fields.append({"name": fm.group(2), "ts": fm.group(4).strip(),
                           "required": fm.group(3) != "?", "doc": clean_comment(fm.group(1))})
        out[m.group(2)] = {"doc": clean_comment(m.group(1)), "fields": fields}
    for m in re.finditer(r"export type (\w+) = null;", src):
        out[m.group(1)] = {"doc": "", "fields": []}
    if len(out) < 100:
        die("SDK models look wrong: only %d interfaces in %s" % (len(out), path))
    return out


def sdk_type(ts):
    """TypeScript type -> (seed-vocabulary type name, is_array)."""
    arr = False
    m = re.fullmatch(r"Array<(\w+)>", ts)
    if m:
        ts, arr = m.group(1), True
    if not re.fullmatch(r"\w+", ts):
        die("unsupported SDK type %r" % ts)
    return {"string": "String", "number": "Integer", "boolean": "Boolean"}.get(ts, ts), arr


def sdk_nullable(doc):
    return "可能返回 null" in doc or "可能返回null" in doc


def first_sentence(doc, limit=160):
    s = re.split(r"(?<=[。；])", doc, maxsplit=1)[0].strip()
    return s if len(s) <= limit else s[:limit].rstrip() + "…"


# ---------------------------------------------------------------- fields

def seed_field(f, kind):
    """A seed field -> the data file's field. `kind` is "input", "output" or "type"."""
    out = {
        "name": f["name"],
        "type": f["type"],
        "array": bool(f["array"]),
        "required": bool(f.get("required", False)) if kind != "output" else False,
        "nullable": bool(f.get("nullable", False)),
        "description": f.get("description", ""),
    }
    if f.get("name_as_printed"):
        out["name_in_seed"] = f["name_as_printed"]
    for key in ("format", "default", "filter_names"):
        if key in f:
            out[key] = f[key]
    if "enum" in f and f["type"] != "Boolean":  # a Boolean enum says nothing the type does not
        out["enum"] = f["enum"]
    if "range" in f:
        if f["array"]:
            out["items"] = f["range"]  # seed convention: range of an array = number of items
        else:
            out["range"] = f["range"]
    return out


def sdk_field(f, kind):
    typ, arr = sdk_type(f["ts"])
    return {
        "name": f["name"],
        "type": typ,
        "array": arr,
        "required": f["required"] if kind != "output" else False,
        "nullable": sdk_nullable(f["doc"]),
        "description": first_sentence(f["doc"]),
        "source": "sdk",
    }


def merge_fields(seed_fields, sdk_fields, kind, owner, renames):
    """Seed fields (renamed to SDK spelling), then SDK-only fields in SDK order."""
    out = []
    for f in seed_fields:
        if f["name"] == "RequestId":
            continue
        nf = seed_field(f, kind)
        new = renames.get((owner, f["name"]))
        if new:
            nf["name_in_seed"], nf["name"] = f["name"], new
        out.append(nf)
    if sdk_fields is None:
        return out
    by_name = {f["name"]: f for f in sdk_fields}
    have = {f["name"] for f in out}
    for f in out:  # the SDK also knows when a seed output may be null
        s = by_name.get(f["name"])
        if s and kind != "input" and sdk_nullable(s["doc"]):
            f["nullable"] = True
    for f in sdk_fields:
        if f["name"] != "RequestId" and f["name"] not in have:
            out.append(sdk_field(f, kind))
    return out


def apply_fixes(actions, types):
    for (kind, owner, lst, name), (op, arg, reason) in sorted(FIELD_FIXES.items()):
        container = actions if kind == "action" else types
        if owner not in container:
            die("fix for unknown %s %s" % (kind, owner))
        fields = [f for f in container[owner][lst] if f["name"] == name]
        if len(fields) != 1:
            die("fix for %s.%s.%s: field not found" % (owner, lst, name))
        f = fields[0]
        key = {"drop_enum": "enum", "set_enum": "enum", "drop_range": "range",
               "set_range": "range", "drop_items": "items"}[op]
        if key not in f:
            die("fix %s on %s.%s no longer applies (no %s)" % (op, owner, name, key))
        if op.startswith("drop_"):
            del f[key]
        else:
            f[key] = arg
        f.setdefault("notes", []).append("%s: %s" % (op, reason))


# ---------------------------------------------------------------- assembly

def build_actions(spec, sdk):
    renames = {(o, n): new for (k, o, n), new in RENAMES.items() if k == "action"}
    actions = {}
    for name, a in spec["actions"].items():
        req = sdk.get(name + "Request")
        resp = sdk.get(name + "Response")
        actions[name] = {
            "category": a["category"],
            "rate_limit": a["rate_limit_per_s"],
            "description": a["description"],
            "in_sdk": req is not None,
            "inputs": merge_fields(a["inputs"], req and req["fields"], "input", name, renames),
            "outputs": merge_fields(a["outputs"], resp and resp["fields"], "output", name, renames),
        }
    return actions


def referenced_types(fields_lists):
    return {f["type"] for fl in fields_lists for f in fl if f["type"] not in SCALARS}


def build_types(spec, sdk, actions):
    """Every data type reachable from the actions, seed first, SDK-only added."""
    renames = {(o, n): new for (k, o, n), new in RENAMES.items() if k == "type"}
    types = {}
    todo = sorted(referenced_types([a["inputs"] for a in actions.values()] +
                                   [a["outputs"] for a in actions.values()]))
    while todo:
        name = todo.pop()
        if name in types:
            continue
        seed = spec["types"].get(name)
        sd = sdk.get(name)
        if seed is not None:
            fields = merge_fields(seed["fields"], sd and sd["fields"], "type", name, renames)
            types[name] = {"description": seed["description"], "in_sdk": sd is not None,
                           "fields": fields}
        elif sd is not None:
            types[name] = {"description": first_sentence(sd["doc"]), "in_sdk": True,
                           "source": "sdk", "fields": [sdk_field(f, "type") for f in sd["fields"]]}
        else:
            die("type %s referenced but defined nowhere" % name)
        todo.extend(sorted(referenced_types([types[name]["fields"]]) - set(types)))
    return types


def build_errors(spec, actions):
    """The registry plus each action's documented codes (registry spelling)."""
    reg = {}
    for chapter in ("common", "service", "common_in_responses_chapter"):
        for code, msg in spec["errors"][chapter].items():
            e = reg.setdefault(code, {"en": msg, "sources": []})
            e["sources"].append(chapter)
    by_ci = {}
    for code in reg:
        if _ci_key(code) in by_ci:
            die("registry codes %s and %s differ only by case" % (code, by_ci[_ci_key(code)]))
        by_ci[_ci_key(code)] = code
    aliases = {}
    for action in sorted(spec["per_action_errors"]):
        descs = spec["per_action_error_descriptions"][action]
        codes = set()
        for code in spec["per_action_errors"][action]:
            canon = by_ci.get(_ci_key(code), code)
            if canon != code:
                aliases[code] = canon
            if canon not in reg:
                reg[canon] = {"en": descs.get(code, ""), "sources": []}
                by_ci[_ci_key(canon)] = canon
            if "per_action" not in reg[canon]["sources"]:
                reg[canon]["sources"].append("per_action")
            codes.add(canon)
        actions[action]["errors"] = sorted(codes)
    for code in REQUIRED_CODES:
        if code not in reg:
            die("required error code %s missing from the sources" % code)
    out = []
    for code in sorted(reg):
        e = reg[code]
        if not e["en"]:
            die("error code %s has no English message" % code)
        out.append({"code": code, "en": e["en"], "zh": ZH.get(code, ""), "sources": e["sources"]})
    return out, aliases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=DEFAULT_SPEC)
    ap.add_argument("--sdk", default=DEFAULT_SDK)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    try:
        spec = json.load(open(args.spec, encoding="utf-8"))
    except (OSError, ValueError) as exc:
        die("cannot read %s: %s" % (args.spec, exc))
    sdk = parse_sdk(args.sdk)
    if len(spec["actions"]) != 89:
        die("expected 89 actions in the seed, found %d" % len(spec["actions"]))
    actions = build_actions(spec, sdk)
    types = build_types(spec, sdk, actions)
    apply_fixes(actions, types)
    errors, aliases = build_errors(spec, actions)
    unknown_zh = sorted(set(ZH) - {e["code"] for e in errors})
    if unknown_zh:
        die("zh messages for codes not in the registry: %s" % ", ".join(unknown_zh))
    doc = {
        "about": ("pgfleet's API data file: the TencentDB for PostgreSQL API as pgfleet serves it. "
                  "Written by tools/derive_api.py from the seed index (api-spec.json) and the "
                  "official Node SDK models; turned into C by tools/gen_api.py (make gen)."),
        "service": spec["service"],
        "version": spec["version"],
        "endpoint": spec["endpoint"],
        "sources": {"seed": spec.get("generated_from", ""), "sdk": "tencentcloud-sdk-nodejs postgres/v20170312"},
        "conventions": [
            "Field types: String, Integer, Float, Boolean, Timestamp, or the name of a type in `types`.",
            "`enum` and `range` are validation rules (range of a number = value, of a string = length).",
            "`items` is the documented number of elements of an array (not generated into C).",
            "`format`, `default`, `filter_names`, `description` are for the reader and the handlers.",
            "`source: sdk` marks fields and types only the SDK documents (description from the SDK).",
            "`notes` records each correction made to the seed's validation data.",
            "Outputs exclude RequestId; common parameters (Action, Version, Region) are not inputs.",
        ],
        "actions": actions,
        "types": types,
        "errors": errors,
        "error_aliases": aliases,
    }
    text = json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as fp:
        fp.write(text)
    os.replace(tmp, args.out)
    print("derive_api: %d actions, %d types, %d error codes -> %s"
          % (len(actions), len(types), len(errors), os.path.relpath(args.out)))


if __name__ == "__main__":
    main()
