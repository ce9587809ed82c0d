/*
 * redress: a dispute-resolution workflow engine. The umbrella header;
 * each module's contract is in include/redress/<module>.h.
 */
#ifndef REDRESS_H
#define REDRESS_H

#include "redress/error.h"
#include "redress/clock.h"
#include "redress/money.h"
#include "redress/random.h"
#include "redress/dispute.h"
#include "redress/workflow.h"
#include "redress/offer.h"
#include "redress/store.h"
#include "redress/service.h"
#include "redress/webhook.h"
#include "redress/http.h"

#endif
