package activities

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
)

type (
	activityInfo  = activity.Info
	encodedValues = converter.EncodedValues
)
