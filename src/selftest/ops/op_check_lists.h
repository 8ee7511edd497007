// Each op's checks (selftest/ops/<op>_checks.cpp), in the order `vkvision selftest` runs them.
#pragma once
#include "selftest/op_check.h"

namespace vkvision::selftest {

void add_gemm_checks(CheckList& list);
void add_conv2d_checks(CheckList& list);
void add_depthwise_conv2d_checks(CheckList& list);
void add_inception_depthwise_checks(CheckList& list);
void add_layer_norm_checks(CheckList& list);
void add_mean_pool_checks(CheckList& list);
void add_grn_checks(CheckList& list);
void add_elementwise_checks(CheckList& list);
void add_window_attention_checks(CheckList& list);
void add_swin_ops_checks(CheckList& list);
void add_partition_mlp_checks(CheckList& list);
void add_token_linear_checks(CheckList& list);

inline constexpr void (*kOpCheckLists[])(CheckList&) = {
    add_gemm_checks,
    add_conv2d_checks,
    add_depthwise_conv2d_checks,
    add_inception_depthwise_checks,
    add_layer_norm_checks,
    add_mean_pool_checks,
    add_grn_checks,
    add_elementwise_checks,
    add_window_attention_checks,
    add_swin_ops_checks,
    add_partition_mlp_checks,
    add_token_linear_checks,
};

}  // namespace vkvision::selftest
