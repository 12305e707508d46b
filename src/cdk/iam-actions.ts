/**
 * IAM action lists the construct grants, kept apart from `aws-cdk-lib` so the example-stack
 * specs can hold the CloudFormation templates to the same list.
 *
 * @module
 */

/**
 * What Lambda needs to manage a VPC function's network interfaces with its execution role. AWS
 * documents these actions with Resource "*" (as in AWSLambdaVPCAccessExecutionRole).
 */
export const VPC_NETWORK_INTERFACE_ACTIONS: readonly string[] = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];
